using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace WgRouted.Service.Probing;

/// <summary>
/// Short-lived rewrites that make a switch stick under traffic. WireGuard learns the peer's endpoint from every
/// authenticated packet: packets from the initiator still in flight on the old path after a move would roam the
/// responder back to the old address, and under steady traffic over a slower old path the two ends chase each other
/// for ever. For <see cref="Lifetime"/> after a move, the responder rewrites such packets' source to the new address,
/// so nothing is lost and nothing is learnt back. (The initiator's side heals by itself: a late packet on the old
/// path sets its source back, its next packet goes out from there, arrives rewritten, and the responder's next
/// packet, to the new address, sets the new source again. Rewriting on the initiator's side instead would make
/// wireguard-go pair the new source with the old uplink's interface.)
/// <para>
/// A fence is one element of a map in table `inet wgrouted`: (old address, old port, our listen port) to the new
/// address, with a kernel timeout, so nothing outlives <see cref="Lifetime"/>, not even after a crash. The one rule
/// per family matches only UDP to an address of this host (`fib daddr type local`) and our listen port, so traffic
/// we forward is never touched; the responder adds no fence for an old endpoint that is another peer's. A stock peer
/// has no responder: our side holds off the packets it sent to our old address instead (<see cref="HoldOff"/>).
/// </para>
/// </summary>
public sealed partial class Fences(ILogger<Fences> logger) : IHostedService
{
    public const string Table = "wgrouted";
    /// <summary>Longer than any sane one-way delay of the old path: its in-flight packets are gone by then.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(2);
    /// <summary>nft answers in milliseconds; a hung one must not hold the responder's move path.</summary>
    private static readonly TimeSpan NftTimeout = TimeSpan.FromSeconds(2);

    private readonly Lock _lock = new();
    private readonly Dictionary<string, string> _elements = [];
    private bool _ready;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        // A crash leaves the table (its elements expire by themselves): start from an empty one.
        RemoveTable();
        _ready = Nft($$"""
            table inet {{Table}} {
                map fence4 { type ipv4_addr . inet_service . inet_service : ipv4_addr; flags timeout; }
                map fence6 { type ipv6_addr . inet_service . inet_service : ipv6_addr; flags timeout; }
                set hold4 { type ipv4_addr . ipv4_addr . inet_service . inet_service; flags timeout; }
                set hold6 { type ipv6_addr . ipv6_addr . inet_service . inet_service; flags timeout; }
                chain prerouting {
                    type filter hook prerouting priority raw; policy accept;
                    meta l4proto udp fib daddr type local @th,64,8 { 1, 4 } ip daddr . ip saddr . udp sport . udp dport @hold4 drop
                    meta l4proto udp fib daddr type local @th,64,8 { 1, 4 } ip6 daddr . ip6 saddr . udp sport . udp dport @hold6 drop
                    meta l4proto udp fib daddr type local ip saddr set ip saddr . udp sport . udp dport map @fence4
                    meta l4proto udp fib daddr type local ip6 saddr set ip6 saddr . udp sport . udp dport map @fence6
                }
            }
            """, out var error);
        if (!_ready)
            LogUnavailable(logger, error);
        return Task.CompletedTask;
    }

    /// <summary>The peer's side: packets from the initiator's old endpoint to our listen port arrive as from its new address.</summary>
    public void RewriteSenders(string owner, IPEndPoint oldRemote, IPAddress newRemote, int localPort)
    {
        ArgumentNullException.ThrowIfNull(oldRemote);
        ArgumentNullException.ThrowIfNull(newRemote);
        if (!_ready)
            return;
        var map = oldRemote.AddressFamily == AddressFamily.InterNetwork ? "fence4" : "fence6";
        // Across families there is nothing to rewrite (the old family's packets stop by themselves): the older fence
        // goes all the same.
        Replace($"fence {owner}", oldRemote.AddressFamily == newRemote.AddressFamily ? map : null,
            $"{oldRemote.Address} . {oldRemote.Port} . {localPort}", $" : {newRemote}", $"from {oldRemote} to port {localPort} -> {newRemote}");
    }

    /// <summary>
    /// Our side of a stock peer's switch (no responder there to fence): for <see cref="Lifetime"/>, packets from the
    /// peer to our old source are dropped. Those it sent before our handshake moved it are still arriving (thousands
    /// under load); each would set our WireGuard's source back to the old address, our next packet would go out from
    /// there, and the peer would roam back to it: the switch would not stick. Only WireGuard's initiations and data
    /// (message types 1 and 4) are held off: answers to our own handshakes (2 and 3) must pass, a trial back to the old
    /// source may come within the hold.
    /// </summary>
    public void HoldOff(string owner, IPAddress oldLocal, IPEndPoint remote, int localPort)
    {
        ArgumentNullException.ThrowIfNull(oldLocal);
        ArgumentNullException.ThrowIfNull(remote);
        if (!_ready || oldLocal.AddressFamily != remote.AddressFamily)
            return;
        Replace($"hold {owner}", oldLocal.AddressFamily == AddressFamily.InterNetwork ? "hold4" : "hold6",
            $"{oldLocal} . {remote.Address} . {remote.Port} . {localPort}", "", $"from {remote} to {oldLocal} port {localPort} dropped");
    }

    /// <summary>
    /// A newer switch for the same peer replaces the older one's element (they would fight): the owner's element goes,
    /// and the new one (<paramref name="set"/> null: none) is added with the kernel timeout.
    /// </summary>
    private void Replace(string owner, string? set, string key, string value, string what)
    {
        lock (_lock)
        {
            if (_elements.Remove(owner, out var previous))
                Nft($"delete element inet {Table} {previous}", out _);
            if (set is null)
                return;
            if (!Nft($"add element inet {Table} {set} {{ {key} timeout {(int)Lifetime.TotalMilliseconds}ms{value} }}", out var error))
            {
                LogAddFailed(logger, what, error);
                return;
            }
            _elements[owner] = $"{set} {{ {key} }}";
            LogAdded(logger, what);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        if (_ready)
            RemoveTable();
        _ready = false;
        return Task.CompletedTask;
    }

    /// <summary>Removes table `inet wgrouted` (on stop, and by `wg-routed cleanup` after a crash); false if there was none.</summary>
    public static bool RemoveTable() => Nft("list table inet " + Table, out _) && Nft("delete table inet " + Table, out _);

    /// <summary>Runs `nft -f -` with <paramref name="script"/> on stdin (no shell, no word splitting).</summary>
    private static bool Nft(string script, out string output)
    {
        var psi = new ProcessStartInfo("nft", "-f -")
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        try
        {
            using var p = Process.Start(psi)!;
            p.StandardInput.Write(script + "\n");
            p.StandardInput.Close();
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            if (!p.WaitForExit(NftTimeout))
            {
                p.Kill();
                output = $"nft did not answer within {NftTimeout.TotalSeconds} s";
                return false;
            }
            output = p.ExitCode == 0 ? stdout.Result : stderr.Result.Trim();
            return p.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            output = $"nft: {e.Message} (install the Debian package nftables)";
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "No nftables ({Error}): switches fall back to re-assertion alone")]
    private static partial void LogUnavailable(ILogger logger, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cannot add the switch fence {What}: {Error}")]
    private static partial void LogAddFailed(ILogger logger, string what, string error);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Switch fence: {What}")]
    private static partial void LogAdded(ILogger logger, string what);
}
