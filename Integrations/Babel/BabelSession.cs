using System.Net.Sockets;

namespace WgRouted.Integrations.Babel;

/// <summary>One connection to babeld. Pending, Synchronized and Ended are guarded by BabelControl's lock; the
/// greeting fields are written by the read loop before <see cref="Greeted"/> completes.</summary>
internal sealed class BabelSession(Socket socket, CancellationTokenSource stop, bool reconnect)
{
    private string? _abortReason;

    public Socket Socket => socket;

    public bool Reconnect => reconnect;

    public CancellationToken Stopping => stop.Token;

    public TaskCompletionSource Greeted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public string? Protocol { get; set; }

    public string? Version { get; set; }

    public string? Host { get; set; }

    public BabelRouterId? MyId { get; set; }

    public BabelGreeting? Greeting { get; set; }

    public BabelPendingCommand? Pending { get; set; }

    /// <summary>The monitor's dump is in: changes are reported from now on.</summary>
    public bool Synchronized { get; set; }

    /// <summary>Why the connection ended; null while it lasts.</summary>
    public string? Ended { get; set; }

    public string? AbortReason => Volatile.Read(ref _abortReason);

    /// <summary>Ends the connection (the first reason given is kept).</summary>
    public void Abort(string reason)
    {
        Interlocked.CompareExchange(ref _abortReason, reason, null);
        try
        {
            stop.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The connection is over already.
        }
    }
}
