using Microsoft.Extensions.DependencyInjection;
using WgRouted.Engine.Policy;
using WgRouted.Integrations.Netlink;
using WgRouted.Service.Probing;
using WgRouted.Service.Configuration;

namespace WgRouted.Service.Daemon;

public static class ServiceCollectionExtensions
{
    /// <summary>The daemon: one hosted service per I/O source, the policy loop, the appender.</summary>
    public static IServiceCollection AddWgRouted(this IServiceCollection services, WgRoutedConfig config)
    {
        services.AddSingleton(config);
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(new EndpointPolicy(config.Policy));
        services.AddSingleton<Inbox>();
        services.AddSingleton<Mailbox<Probing.SwitchCommand>>();
        services.AddSingleton<Mailbox<Probing.ProbeSchedule>>();
        services.AddSingleton<Mailbox<Probing.ResponderCommand>>();
        services.AddSingleton<Mailbox<Babel.TunnelCommand>>();
        services.AddSingleton<Mailbox<Babel.BabelRequest>>();
        services.AddSingleton<FailoverTraces>();
        services.AddSingleton(new Outbox(Path.Combine(config.Options.DataDirectory, "outbox.jsonl")));
        services.AddSingleton<StoreConnector>();
        services.AddSingleton<Appender>();
        services.AddSingleton(sp =>
        {
            var connector = sp.GetRequiredService<StoreConnector>();
            return new Store.ProbeRecorder(
                async ct => (await connector.GetAsync(ct)).ConnectionString,
                Path.Combine(config.Options.DataDirectory, "probe-spill"), config.Options.History.ProbeRetentionDays,
                sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<Microsoft.Extensions.Logging.ILogger<Store.ProbeRecorder>>());
        });
        services.AddSingleton<PolicyLoop>();
        services.AddSingleton(_ => new WireGuardControl());
        services.AddSingleton(sp =>
        {
            // Its own socket: lookups run on the host monitor's thread.
            var rtnl = Rtnetlink.Open();
            return ActivatorUtilities.CreateInstance<CandidateTracker>(sp, (Func<RouteQuery, RouteLookup?>)(q => rtnl.GetRoute(q)));
        });
        services.AddSingleton<PinService>();
        services.AddSingleton<Keyring>();
        services.AddSingleton<Fences>();
        services.AddSingleton<BindDatagram>(UdpDatagramSocket.Bind);
        services.AddSingleton<Prober>();
        services.AddSingleton<Responder>();
        // Hosts stop services in reverse order: the appender stops last and stores what the others emitted.
        services.AddHostedService(sp => sp.GetRequiredService<Appender>());
        services.AddHostedService(sp => sp.GetRequiredService<Store.ProbeRecorder>());
        services.AddHostedService(sp => sp.GetRequiredService<PolicyLoop>());
        services.AddHostedService<ConfigPublisher>();
        services.AddHostedService(sp => sp.GetRequiredService<PinService>());
        services.AddHostedService<HostSource>();
        services.AddHostedService<DnsSource>();
        services.AddHostedService<WireGuardPoller>();
        services.AddHostedService(sp => sp.GetRequiredService<Fences>());
        services.AddHostedService(sp => sp.GetRequiredService<Responder>());
        services.AddHostedService(sp => sp.GetRequiredService<Prober>());
        services.AddHostedService<Switcher>();
        services.AddHostedService<Babel.TunnelLinks>();
        services.AddHostedService<Babel.BabelBridge>();
        services.AddHostedService<TelemetryGauges>();
        services.AddWgRoutedTelemetry(config);
        return services;
    }
}
