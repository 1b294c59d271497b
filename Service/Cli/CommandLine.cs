using System.CommandLine;

namespace WgRouted.Service.Cli;

internal static class CommandLine
{
    public const int UsageError = 2;

    public static RootCommand Build()
    {
        var root = new RootCommand("wg-routed: keeps every WireGuard peer on its best (source, destination) path");
        root.Subcommands.Add(RunCommand.Create());
        root.Subcommands.Add(CheckConfigCommand.Create());
        root.Subcommands.Add(CleanupCommand.Create());
        root.Subcommands.Add(EventsCommand.Create());
        root.Subcommands.Add(ShowCommand.Create());
        root.Subcommands.Add(ProbeCommand.Create());
        root.Subcommands.Add(ReplayCommand.Create());
        root.Subcommands.Add(BabelConfigCommand.Create());
        root.Subcommands.Add(DemoCommand.Create());
        root.Subcommands.Add(NetlinkCommands.Create());
        root.Subcommands.Add(WgCommands.Create());
        return root;
    }

    public static async Task<int> InvokeAsync(string[] args)
    {
        var root = Build();
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var error in parsed.Errors)
                await Console.Error.WriteLineAsync(error.Message);
            await Console.Error.WriteLineAsync();
            var usage = root.Parse(FindCommandPath(parsed).Append("--help").ToArray());
            await usage.InvokeAsync(new InvocationConfiguration { Output = Console.Error });
            return UsageError;
        }
        return await parsed.InvokeAsync();
    }

    private static Stack<string> FindCommandPath(ParseResult parsed)
    {
        var names = new Stack<string>();
        for (var r = parsed.CommandResult; r.Parent is System.CommandLine.Parsing.CommandResult parent; r = parent)
            names.Push(r.Command.Name);
        return names;
    }
}
