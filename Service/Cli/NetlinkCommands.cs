using System.CommandLine;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using WgRouted.Integrations.Netlink;

namespace WgRouted.Service.Cli;

/// <summary>`wg-routed netlink ...`: what WgRouted sees through rtnetlink, in `ip`'s terms.</summary>
internal static class NetlinkCommands
{
    private static readonly JsonSerializerOptions Json = new() { TypeInfoResolver = CliJsonContext.Default };

    public static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "Print JSON" };
        var table = new Option<uint?>("--table") { Description = "Only routes of this table (number)" };

        var links = new Command("links", "Network interfaces") { json };
        links.SetAction(r => Run(rtnl => Print(r.GetValue(json), rtnl.DumpLinks().Select(LinkFields), LinkLine)));

        var addresses = new Command("addresses", "Interface addresses") { json };
        addresses.SetAction(r => Run(rtnl =>
        {
            var names = rtnl.DumpLinks().ToDictionary(l => l.Index, l => l.Name);
            return Print(r.GetValue(json), rtnl.DumpAddresses().Select(a => AddressFields(a, names)), AddressLine);
        }));

        var routes = new Command("routes", "Routes of all tables (or of --table)") { table, json };
        routes.SetAction(r => Run(rtnl =>
        {
            var names = rtnl.DumpLinks().ToDictionary(l => l.Index, l => l.Name);
            var only = r.GetValue(table);
            return Print(r.GetValue(json), rtnl.DumpRoutes().Where(x => only is null || x.Table == only).Select(x => RouteFields(x, names)), RouteLine);
        }));

        var rules = new Command("rules", "Policy routing rules") { json };
        rules.SetAction(r => Run(rtnl => Print(r.GetValue(json), rtnl.DumpRules().Select(RuleFields), RuleLine)));

        var dst = new Argument<string>("DST") { Description = "Destination address" };
        var from = new Option<string?>("--from") { Description = "Source address" };
        var mark = new Option<string?>("--mark") { Description = "Firewall mark (decimal or 0x hex)" };
        var oif = new Option<string?>("--oif") { Description = "Output interface name" };
        var routeGet = new Command("route-get", "The kernel's route for DST, like `ip route get`") { dst, from, mark, oif, json };
        routeGet.SetAction(r => Run(rtnl =>
        {
            if (!IPAddress.TryParse(r.GetValue(dst), out var destination))
                return Usage($"not an IP address: {r.GetValue(dst)}");
            IPAddress? source = null;
            if (r.GetValue(from) is { } f && !IPAddress.TryParse(f, out source))
                return Usage($"not an IP address: {f}");
            uint? fwmark = null;
            if (r.GetValue(mark) is { } m)
            {
                if (!TryParseMark(m, out var value))
                    return Usage($"not a mark: {m}");
                fwmark = value;
            }
            int? index = null;
            if (r.GetValue(oif) is { } dev)
            {
                if (rtnl.FindLink(dev) is not { } link)
                {
                    Console.Error.WriteLine($"no such interface: {dev}");
                    return 1;
                }
                index = link.Index;
            }
            var lookup = rtnl.GetRoute(new RouteQuery(destination, source, fwmark, index));
            var fields = new Dictionary<string, object?>
            {
                ["dst"] = lookup.Destination.ToString(),
                ["src"] = lookup.Source?.ToString(),
                ["dev"] = lookup.Device,
                ["gateway"] = lookup.Gateway?.ToString(),
                ["table"] = TableName(lookup.Table),
            };
            return Print(r.GetValue(json), [fields], f => string.Join(' ', f.Where(kv => kv.Value is not null).Select(kv => $"{kv.Key} {kv.Value}")), single: true);
        }));

        return new Command("netlink", "Links, addresses, routes and rules as WgRouted reads them") { links, addresses, routes, rules, routeGet };
    }

    internal static string TableName(uint table) => table switch
    {
        Route.TableMain => "main",
        Route.TableLocal => "local",
        Route.TableDefault => "default",
        _ => table.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    internal static bool TryParseMark(string text, out uint mark) =>
        text.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? uint.TryParse(text.AsSpan(2), System.Globalization.NumberStyles.HexNumber, null, out mark)
            : uint.TryParse(text, out mark);

    private static int Run(Func<Rtnetlink, int> action)
    {
        try
        {
            using var rtnl = Rtnetlink.Open();
            return action(rtnl);
        }
        catch (NetlinkException e)
        {
            Console.Error.WriteLine(e.Message);
            return 1;
        }
        catch (ArgumentException e)
        {
            return Usage(e.Message);
        }
    }

    private static int Usage(string message)
    {
        Console.Error.WriteLine(message);
        return CommandLine.UsageError;
    }

    private static int Print(bool json, IEnumerable<Dictionary<string, object?>> items, Func<Dictionary<string, object?>, string> line, bool single = false)
    {
        var list = items.ToList();
        if (json)
            Console.WriteLine(single ? JsonSerializer.Serialize(list[0], Json.GetTypeInfo(typeof(Dictionary<string, object?>))) : JsonSerializer.Serialize(list, Json.GetTypeInfo(typeof(List<Dictionary<string, object?>>))));
        else
            foreach (var item in list)
                Console.WriteLine(line(item));
        return 0;
    }

    private static string Family(AddressFamily family) => family == AddressFamily.InterNetworkV6 ? "inet6" : "inet";

    private static Dictionary<string, object?> LinkFields(Link l) => new()
    {
        ["ifindex"] = l.Index,
        ["ifname"] = l.Name,
        ["flags"] = l.Flags.ToString(),
        ["mtu"] = l.Mtu,
        ["operstate"] = l.OperState.ToString().ToUpperInvariant(),
        ["carrier"] = l.Carrier,
        ["kind"] = l.Kind,
    };

    private static string LinkLine(Dictionary<string, object?> f) =>
        $"{f["ifindex"]}: {f["ifname"]}: <{f["flags"]}> mtu {f["mtu"]} state {f["operstate"]} carrier {f["carrier"]}" + (f["kind"] is null ? "" : $" kind {f["kind"]}");

    private static Dictionary<string, object?> AddressFields(Address a, Dictionary<int, string> names) => new()
    {
        ["ifindex"] = a.Index,
        ["dev"] = names.GetValueOrDefault(a.Index),
        ["family"] = Family(a.Family),
        ["local"] = a.Local.ToString(),
        ["prefixlen"] = a.PrefixLength,
        ["scope"] = a.Scope,
        ["flags"] = a.Flags.ToString(),
        ["label"] = a.Label,
    };

    private static string AddressLine(Dictionary<string, object?> f) =>
        $"{f["ifindex"]}: {f["dev"]} {f["family"]} {f["local"]}/{f["prefixlen"]} scope {f["scope"]} flags {f["flags"]}";

    private static Dictionary<string, object?> RouteFields(Route r, Dictionary<int, string> names) => new()
    {
        ["family"] = Family(r.Family),
        ["type"] = r.Type.ToString().ToLowerInvariant(),
        ["dst"] = r.PrefixLength == 0 ? "default" : $"{r.Destination}/{r.PrefixLength}",
        ["gateway"] = r.Gateway?.ToString(),
        ["dev"] = r.OutputInterface == 0 ? null : names.GetValueOrDefault(r.OutputInterface, r.OutputInterface.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        ["table"] = TableName(r.Table),
        ["protocol"] = r.Protocol,
        ["scope"] = r.Scope,
        ["prefsrc"] = r.PreferredSource?.ToString(),
        ["metric"] = r.Priority,
        ["flags"] = r.Flags.ToString(),
    };

    private static string RouteLine(Dictionary<string, object?> f) =>
        $"{f["type"]} {f["dst"]}" + (f["gateway"] is null ? "" : $" via {f["gateway"]}") + (f["dev"] is null ? "" : $" dev {f["dev"]}")
        + $" table {f["table"]} proto {f["protocol"]} scope {f["scope"]}" + (f["prefsrc"] is null ? "" : $" src {f["prefsrc"]}")
        + $" metric {f["metric"]} flags {f["flags"]}";

    private static Dictionary<string, object?> RuleFields(Rule r) => new()
    {
        ["family"] = Family(r.Family),
        ["priority"] = r.Priority,
        ["src"] = r.SourceLength == 0 ? "all" : $"{r.Source}/{r.SourceLength}",
        ["dst"] = r.DestinationLength == 0 ? null : $"{r.Destination}/{r.DestinationLength}",
        ["fwmark"] = r.FirewallMark is { } m ? $"0x{m:x}" : null,
        ["fwmask"] = r.FirewallMask is { } k ? $"0x{k:x}" : null,
        ["iif"] = r.InputInterface,
        ["oif"] = r.OutputInterface,
        ["table"] = TableName(r.Table),
        ["action"] = r.Action.ToString().ToLowerInvariant(),
        ["not"] = r.Invert,
    };

    private static string RuleLine(Dictionary<string, object?> f) =>
        $"{f["priority"]}: {f["family"]}" + ((bool)f["not"]! ? " not" : "") + $" from {f["src"]}" + (f["dst"] is null ? "" : $" to {f["dst"]}")
        + (f["fwmark"] is null ? "" : $" fwmark {f["fwmark"]}/{f["fwmask"]}") + (f["iif"] is null ? "" : $" iif {f["iif"]}")
        + (f["oif"] is null ? "" : $" oif {f["oif"]}") + $" lookup {f["table"]} ({f["action"]})";
}
