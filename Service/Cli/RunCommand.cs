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
        builder.Services.AddSystemd();
        builder.Services.AddWgRouted(config);
        return builder.Build();
    }
}
