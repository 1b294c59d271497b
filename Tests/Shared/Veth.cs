namespace WgRouted.Tests.Shared;

internal static class Veth
{
    /// <summary>
    /// Joins two namespaces with a veth pair, both ends up with the given addresses ("198.18.30.1/24"; none when
    /// null). Duplicate address detection is off on both ends, so their IPv6 link-local addresses, which babeld
    /// needs to speak on a link, are usable at once.
    /// </summary>
    public static void Connect(TestNamespace a, string nameA, string? addressA, TestNamespace b, string nameB, string? addressB)
    {
        TestNamespace.Run("ip", $"link add {nameA} netns {a.Name} type veth peer name {nameB} netns {b.Name}");
        foreach (var (ns, name, address) in new[] { (a, nameA, addressA), (b, nameB, addressB) })
        {
            ns.Exec("sysctl", $"-qw net.ipv6.conf.{name}.accept_dad=0");
            if (address is not null)
                ns.Ip($"addr add {address} dev {name}");
            ns.Ip($"link set {name} up");
        }
    }
}
