using System.CommandLine;
using System.Net.Sockets;
using WgRouted.Integrations.Netlink;
using WgRouted.Service.Daemon;
using WgRouted.Service.Probing;

namespace WgRouted.Service.Cli;

/// <summary>
/// `wg-routed cleanup`: removes every kernel object WgRouted makes, for systemd's ExecStopPost after a crash (a clean
/// stop removes them itself): routes and rules of protocol 157 in any table, table `inet wgrouted`, the managed
/// devices' fwmarks given back (as noted at start), and babeld-managed tunnels WgRouted had taken down set up again.
/// </summary>
internal static class CleanupCommand
{
    public static Command Create()
    {
        var config = CommonOptions.Config();
        var command = new Command("cleanup", "remove every route, rule and nftables table WgRouted made, give devices their fwmark back") { config };
        command.SetAction(parse =>
        {
            var loaded = CommonOptions.LoadOrReport(parse.GetRequiredValue(config));
            if (loaded is null)
                return CommonOptions.Failure;
            var failed = false;
            using var rtnl = Rtnetlink.Open();
            try
            {
                Console.WriteLine($"routes and rules of protocol {SourcePins.Protocol}: {SourcePins.RemoveAll(rtnl)} removed");
            }
            catch (NetlinkException e)
            {
                Console.Error.WriteLine($"routes and rules: {e.Message}");
                failed = true;
            }
            Console.WriteLine($"nftables table inet {Fences.Table}: {(Fences.RemoveTable() ? "removed" : "none")}");
            var saved = PinService.Saved(loaded);
            using var control = new WireGuardControl();
            foreach (var itf in loaded.Interfaces)
            {
                try
                {
                    if (control.GetDevice(itf.Name).FirewallMark == itf.Fwmark)
                    {
                        var mark = saved.GetValueOrDefault(itf.Name);
                        control.SetFirewallMark(itf.Name, mark);
                        Console.WriteLine($"{itf.Name}: fwmark {mark:x} given back");
                    }
                    if (itf.Babel && rtnl.FindLink(itf.Name) is { } link && !link.IsUp)
                    {
                        rtnl.SetLinkUp(link.Index, true);
                        Console.WriteLine($"{itf.Name}: set up again (babeld's tunnel)");
                    }
                }
                catch (Exception e) when (e is NetlinkException or IOException or SocketException or InvalidDataException)
                {
                    Console.WriteLine($"{itf.Name}: {e.Message} (nothing to give back)");
                }
            }
            return failed ? CommonOptions.Failure : 0;
        });
        return command;
    }
}
