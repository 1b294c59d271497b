using System.CommandLine;
using System.Globalization;
using WgRouted.Service.Configuration;

namespace WgRouted.Service.Cli;

/// <summary>`babel-config`: the babeld.conf lines for the tunnels WgRouted manages.</summary>
internal static class BabelConfigCommand
{
    public static Command Create()
    {
        var config = CommonOptions.Config();
        var command = new Command("babel-config", "print the recommended babeld.conf lines for the managed tunnels") { config };
        command.SetAction(parse =>
        {
            var loaded = CommonOptions.LoadOrReport(parse.GetRequiredValue(config));
            if (loaded is null)
                return CommonOptions.Failure;
            var babel = loaded.Options.Babel;
            var managed = loaded.Interfaces.Where(i => i.Babel).ToList();
            Console.WriteLine("# babeld.conf for the WireGuard tunnels WgRouted manages (babeld 1.12 to 1.14).");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"# babeld's RTT for a tunnel follows a change of its underlay path to 90 % in about {BabelTunnel.Follows90(babel).TotalSeconds:0.#} s."));
            Console.WriteLine("# WgRouted needs the read-write control socket (to add a tunnel babeld lacks, e.g. after a restart):");
            Console.WriteLine(babel.Control.StartsWith("unix:", StringComparison.Ordinal)
                ? $"local-path-readwrite {babel.Control[5..]}"
                : $"local-port-readwrite {babel.Control[(babel.Control.LastIndexOf(':') + 1)..]}");
            Console.WriteLine("# WireGuard interfaces have no MAC address to derive a router-id from: set one, unique in the mesh, e.g.");
            Console.WriteLine("# router-id 02:00:00:00:00:01");
            if (managed.Count == 0)
                Console.WriteLine("# no interface has \"Babel\": true");
            foreach (var itf in managed)
                Console.WriteLine(BabelTunnel.Command(itf.Name, babel));
            return 0;
        });
        return command;
    }
}
