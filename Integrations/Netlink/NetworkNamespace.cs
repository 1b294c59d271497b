using System.Runtime.InteropServices;

namespace WgRouted.Integrations.Netlink;

/// <summary>Runs code in a named network namespace (/var/run/netns/NAME, as `ip netns` makes them).</summary>
/// <remarks>A socket belongs to the namespace it was created in, so a socket made inside Run keeps working
/// from any thread afterwards. Run uses its own thread, because setns changes only the calling thread.</remarks>
public static class NetworkNamespace
{
    public static T Run<T>(string? name, Func<T> action)
    {
        ArgumentNullException.ThrowIfNull(action);
        if (name is null)
            return action();
        T result = default!;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                var target = OpenNamespace($"/var/run/netns/{name}");
                try
                {
                    if (Libc.SetNs(target, Libc.CLONE_NEWNET) < 0)
                        throw new NetlinkException($"setns({name})", Marshal.GetLastPInvokeError());
                }
                finally
                {
                    Libc.Close(target);
                }
                result = action();
            }
            catch (Exception e)
            {
                failure = e;
            }
        }) { IsBackground = true, Name = $"netns {name}" };
        // The thread exits after the action, so the changed namespace goes with it.
        thread.Start();
        thread.Join();
        if (failure is not null)
            throw new InvalidOperationException($"in network namespace {name}: {failure.Message}", failure);
        return result;
    }

    private static int OpenNamespace(string path)
    {
        var fd = Libc.Open(path, Libc.O_RDONLY | Libc.O_CLOEXEC);
        return fd >= 0 ? fd : throw new NetlinkException($"open({path})", Marshal.GetLastPInvokeError());
    }
}
