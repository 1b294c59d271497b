using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace WgRouted.Service.Probing;

/// <summary>
/// Short-lived stateless rewrites that make a switch stick under traffic. WireGuard learns the peer's endpoint
/// from every authenticated packet: packets from the initiator still in flight on the old path after a move
/// would roam the responder back to the old address, and under steady traffic over a slower old path the two
/// ends chase each other for ever. For a moment after a move, the responder rewrites such packets' source to
/// the new address, so nothing is lost and nothing is learnt back. (The initiator's side heals by itself: a
/// late packet on the old path sets its source back, its next packet goes out from there, arrives rewritten,
/// and the responder's next packet, to the new address, sets the new source again. Rewriting on the
/// initiator's side instead would make wireguard-go pair the new source with the old uplink's interface.) Rules live in table `inet wgrouted`, chain prerouting at raw priority (before
/// conntrack), and are removed when they expire and on shutdown.
/// </summary>
public sealed partial class Fences(TimeProvider time, ILogger<Fences> logger) : IHostedService, IAsyncDisposable
{
    public const string Table = "wgrouted";
    /// <summary>Longer than any sane one-way delay of the old path: its in-flight packets are gone by then.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(2);

    private readonly Lock _lock = new();
    private readonly List<(long Handle, string Owner, DateTimeOffset Expires)> _rules = [];
    private ITimer? _timer;
    private bool _ready;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        // A crash leaves the table: start from an empty one.
        Nft($"add table inet {Table}", out _);
        Nft($"delete table inet {Table}", out _);
        _ready = Nft($"add table inet {Table}", out var error)
            && Nft($"add chain inet {Table} prerouting {{ type filter hook prerouting priority raw; policy accept; }}", out error);
        if (!_ready)
            LogUnavailable(logger, error);
        _timer = time.CreateTimer(_ => Expire(), null, TimeSpan.FromMilliseconds(250), TimeSpan.FromMilliseconds(250));
        return Task.CompletedTask;
    }

    /// <summary>The peer's side: packets from the initiator's old address arrive as from its new one.</summary>
    public void RewriteSenders(string owner, IPEndPoint oldRemote, IPAddress newRemote, int localPort)
    {
        Drop(owner);
        if (Family(oldRemote.Address, newRemote, newRemote) is not { } ip)
            return;
        Add(owner, $"{ip} saddr {oldRemote.Address} udp sport {oldRemote.Port} udp dport {localPort} {ip} saddr set {newRemote}",
            $"from {oldRemote} -> {newRemote}");
    }

    private static string? Family(IPAddress a, IPAddress b, IPAddress c) =>
        a.AddressFamily == b.AddressFamily && b.AddressFamily == c.AddressFamily
            ? a.AddressFamily == AddressFamily.InterNetwork ? "ip" : "ip6"
            : null; // across families there is nothing to rewrite: the old family's packets stop by themselves.

    /// <summary>A newer switch for the same peer replaces the fences of the older one (they would fight it).</summary>
    private void Drop(string owner)
    {
        lock (_lock)
            foreach (var rule in _rules.Where(r => r.Owner == owner).ToList())
            {
                Nft($"delete rule inet {Table} prerouting handle {rule.Handle}", out _);
                _rules.Remove(rule);
            }
    }

    private void Add(string owner, string rule, string what)
    {
        if (!_ready)
            return;
        lock (_lock)
        {
            if (!Nft($"--echo --handle add rule inet {Table} prerouting {rule}", out var output))
            {
                LogAddFailed(logger, what, output);
                return;
            }
            var at = output.LastIndexOf("# handle ", StringComparison.Ordinal);
            if (at >= 0 && long.TryParse(output.AsSpan(at + 9).Trim(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var handle))
                _rules.Add((handle, owner, time.GetUtcNow() + Lifetime));
            LogAdded(logger, what);
        }
    }

    private void Expire()
    {
        lock (_lock)
        {
            var now = time.GetUtcNow();
            foreach (var rule in _rules.Where(r => r.Expires <= now).ToList())
            {
                Nft($"delete rule inet {Table} prerouting handle {rule.Handle}", out _);
                _rules.Remove(rule);
            }
        }
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _timer?.Dispose();
        if (_ready)
            Nft($"delete table inet {Table}", out _);
        _ready = false;
        return Task.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        if (_timer is not null)
            await _timer.DisposeAsync();
    }

    private static bool Nft(string args, out string output)
    {
        var psi = new ProcessStartInfo("nft") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in SplitArgs(args))
            psi.ArgumentList.Add(a);
        try
        {
            using var p = Process.Start(psi)!;
            var stdout = p.StandardOutput.ReadToEnd();
            var stderr = p.StandardError.ReadToEnd();
            p.WaitForExit();
            output = p.ExitCode == 0 ? stdout : stderr.Trim();
            return p.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            output = $"nft: {e.Message} (install the Debian package nftables)";
            return false;
        }
    }

    // nft takes the rule as separate words; braces and semicolons stay inside their words.
    private static string[] SplitArgs(string args) => args.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    [LoggerMessage(Level = LogLevel.Warning, Message = "No nftables ({Error}): switches fall back to re-assertion alone")]
    private static partial void LogUnavailable(ILogger logger, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cannot add the switch fence {What}: {Error}")]
    private static partial void LogAddFailed(ILogger logger, string what, string error);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Switch fence: {What}")]
    private static partial void LogAdded(ILogger logger, string what);
}
