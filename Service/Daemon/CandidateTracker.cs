using System.Net;
using Microsoft.Extensions.Logging;
using WgRouted.Engine;
using WgRouted.Engine.Events;
using WgRouted.Integrations.Netlink;
using WgRouted.Service.Configuration;

namespace WgRouted.Service.Daemon;

/// <summary>
/// Turns host facts and DNS answers into the peers' candidate paths and the kernel's preferred source for each
/// destination, posting CandidatesResolved (endpoints and sources: the engine crosses them), PreferredSourceChanged
/// and PathLinkDown on change only. Called from the host monitor's thread and the resolver; serialised by a lock.
/// </summary>
public sealed partial class CandidateTracker(
    WgRoutedConfig config, Inbox inbox, TimeProvider time, Func<RouteQuery, RouteLookup?> lookup, ILogger<CandidateTracker> logger)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<PeerKey, IReadOnlyList<(int Order, Endpoint Dst)>> _answers = InitialAnswers(config);
    private readonly Dictionary<PeerKey, (IReadOnlyList<ResolvedEndpoint> Endpoints, IReadOnlyList<Source> Sources)> _posted = [];
    private readonly Dictionary<(PeerKey, IPAddress), IPAddress?> _preferred = [];
    private readonly HashSet<string> _managed = config.Interfaces.Select(i => i.Name).ToHashSet(StringComparer.Ordinal);
    private HostSnapshot? _host;

    private static Dictionary<PeerKey, IReadOnlyList<(int, Endpoint)>> InitialAnswers(WgRoutedConfig config) =>
        config.Peers.ToDictionary(
            p => p.Peer.PublicKey,
            p => (IReadOnlyList<(int, Endpoint)>)p.Peer.Endpoints
                .Where(e => e.Literal is not null)
                .Select(e => (e.Order, new Endpoint(e.Literal!, e.Port)))
                .ToList());

    /// <summary>The monitor saw changes (or its first dump): re-derive candidates and preferred sources.</summary>
    public void OnHost(HostSnapshot host, HostChanges? changes)
    {
        lock (_lock)
        {
            _host = host;
            // Preferences first: the decision a down link triggers must already see where the kernel routes now.
            Refresh();
            if (changes is not null)
                ReportLinksDown(host, changes);
        }
    }

    /// <summary>A DNS answer for one of the peer's endpoint names (all of its addresses, A and AAAA).</summary>
    public void OnResolved(PeerKey peer, EndpointSpec spec, IReadOnlyList<IPAddress> addresses)
    {
        lock (_lock)
        {
            var others = _answers.GetValueOrDefault(peer, []).Where(a => a.Order != spec.Order);
            _answers[peer] = others.Concat(addresses.Select(a => (spec.Order, new Endpoint(a, spec.Port)))).ToList();
            Refresh();
        }
    }

    private void Refresh()
    {
        if (_host is null)
            return;
        var now = time.GetUtcNow();
        var names = _host.Links.ToDictionary(l => l.Index, l => l.Name);
        var sources = UsableSources(_host)
            .Select(s => new Source(s.Address, names.GetValueOrDefault(s.Link) ?? s.Link.ToString(System.Globalization.CultureInfo.InvariantCulture)))
            .OrderBy(s => s.Address, AddressComparer.Instance)
            .ToList();
        foreach (var (peer, answers) in _answers)
        {
            var endpoints = answers.Select(a => new ResolvedEndpoint(a.Order, a.Dst)).ToList();
            if (!_posted.TryGetValue(peer, out var known) || !known.Endpoints.SequenceEqual(endpoints) || !known.Sources.SequenceEqual(sources))
            {
                _posted[peer] = (endpoints, sources);
                inbox.Post(new CandidatesResolved(peer, now, endpoints, sources));
            }
            foreach (var dst in answers.Select(a => a.Dst.Address).Distinct())
            {
                var src = Lookup(dst);
                if (!_preferred.TryGetValue((peer, dst), out var was) || !Equals(was, src))
                {
                    _preferred[(peer, dst)] = src;
                    inbox.Post(new PreferredSourceChanged(peer, now, dst, src));
                }
            }
        }
    }

    private IPAddress? Lookup(IPAddress dst)
    {
        try
        {
            return lookup(new RouteQuery(dst))?.Source;
        }
        catch (NetlinkException e)
        {
            // ENETUNREACH and friends: the kernel has no route, so no preferred source.
            LogLookupFailed(logger, dst.ToString(), e.Message);
            return null;
        }
    }

    /// <summary>Sources a tunnel can leave from: global addresses, settled (not tentative), on links we do not manage.</summary>
    public IEnumerable<(IPAddress Address, int Link)> UsableSources(HostSnapshot host)
    {
        var links = host.Links.ToDictionary(l => l.Index);
        foreach (var a in host.Addresses)
        {
            if (!links.TryGetValue(a.Index, out var link) || _managed.Contains(link.Name) || link.Kind == "wireguard")
                continue;
            if ((a.Flags & (AddressFlags.Tentative | AddressFlags.DadFailed)) != 0 || a.Scope != Route.ScopeUniverse)
                continue;
            if (Candidates.IsUsableSource(a.Local))
                yield return (a.Local, a.Index);
        }
    }

    // Carrier loss leaves routes in place and sends no route message: a link going down is the signal.
    private void ReportLinksDown(HostSnapshot host, HostChanges changes)
    {
        var down = changes.Links
            .Where(c => c.New is { } n && (!n.IsUp || !n.Carrier) && (c.Old is null || (c.Old.IsUp && c.Old.Carrier)))
            .Select(c => c.New!.Index)
            .ToHashSet();
        if (down.Count == 0)
            return;
        var linkOf = host.Addresses.Where(a => down.Contains(a.Index)).GroupBy(a => a.Local).ToDictionary(g => g.Key, g => g.First().Index);
        var onDownLinks = linkOf.Keys.ToHashSet();
        var names = host.Links.ToDictionary(l => l.Index, l => l.Name);
        var now = time.GetUtcNow();
        foreach (var (peer, posted) in _posted)
            foreach (var c in Candidates.Cross(posted.Endpoints.Select(e => (e.Order, e.Endpoint)), posted.Sources.Select(s => s.Address)))
                if (onDownLinks.Contains(c.Path.Src))
                    inbox.Post(new PathLinkDown(peer, now, c.Path, names.GetValueOrDefault(linkOf[c.Path.Src]) ?? "?"));
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "No route to {Destination}: {Error}")]
    private static partial void LogLookupFailed(ILogger logger, string destination, string error);
}
