using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using WgRouted.Engine.Policy;
using WgRouted.Service.Configuration;
using WgRouted.Service.Daemon;

namespace WgRouted.Service.Cli;

internal static class RunCommand
{
    public static Command Create()
    {
        var config = CommonOptions.Config();
        var command = new Command("run", "run the daemon") { config };
        command.SetAction(async (parse, ct) =>
        {
            var loaded = CommonOptions.LoadOrReport(parse.GetRequiredValue(config));
            if (loaded is null)
                return CommonOptions.Failure;
            // One daemon per data directory: it alone owns the store, the log and the embedded PostgreSQL.
            Directory.CreateDirectory(loaded.Options.DataDirectory);
            FileStream daemonLock;
            try
            {
                daemonLock = new FileStream(Path.Combine(loaded.Options.DataDirectory, "wg-routed.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException)
            {
                Console.Error.WriteLine($"another wg-routed runs with DataDirectory {loaded.Options.DataDirectory}");
                return CommonOptions.Failure;
            }
            await using var held = daemonLock;
            using var host = BuildHost(loaded);
            try
            {
                await host.StartAsync(ct);
            }
            catch (ConfigurationException e)
            {
                // What the first service refuses at start (a pin table the operator uses): named, nothing else started
                // (stopping the others would have the recorder start PostgreSQL to flush).
                foreach (var error in e.Errors)
                    Console.Error.WriteLine(error);
                return CommonOptions.Failure;
            }
            await host.WaitForShutdownAsync(ct);
            // A fatal fault stopped the host: a non-zero exit, so that systemd's Restart=on-failure acts.
            return host.Services.GetRequiredService<DaemonHealth>().ExitCode;
        });
        return command;
    }

    public static IHost BuildHost(WgRoutedConfig config)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss.fff ";
            o.UseUtcTimestamp = true;
        });
        // WGROUTED_DEBUG=prefix,prefix: debug lines from the categories (class names) starting with one of them.
        if (Environment.GetEnvironmentVariable("WGROUTED_DEBUG") is { Length: > 0 } debug)
        {
            var prefixes = debug.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            builder.Logging.SetMinimumLevel(LogLevel.Debug);
            builder.Logging.AddFilter((category, level) =>
                level >= LogLevel.Information || category is not null && prefixes.Any(p => category.StartsWith(p, StringComparison.Ordinal)));
        }
        builder.Services.AddSystemd();
        // AddSystemd takes us for a systemd service only when our parent is PID 1; whatever hands us a notify socket
        // (systemd through a wrapper, a container's init) expects READY=1 and STOPPING=1 too.
        if (Environment.GetEnvironmentVariable("NOTIFY_SOCKET") is { Length: > 0 })
        {
            builder.Services.AddSingleton<Microsoft.Extensions.Hosting.Systemd.ISystemdNotifier, Microsoft.Extensions.Hosting.Systemd.SystemdNotifier>();
            builder.Services.AddSingleton<IHostLifetime, Microsoft.Extensions.Hosting.Systemd.SystemdLifetime>();
        }
        builder.Services.AddWgRouted(config);
        return builder.Build();
    }
}
