using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
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
        services.AddSingleton<Mailbox<Probing.HandshakeSchedule>>();
        services.AddSingleton<Mailbox<Probing.ResponderCommand>>();
        services.AddSingleton<Mailbox<Babel.TunnelCommand>>();
        services.AddSingleton<Mailbox<Babel.BabelRequest>>();
        services.AddSingleton<FailoverTraces>();
        services.AddSingleton(new Store.EventLog(Path.Combine(config.Options.DataDirectory, "events.log")));
        services.AddSingleton(sp =>
        {
            var connector = new StoreConnector(config, sp.GetRequiredService<EndpointPolicy>(),
                sp.GetRequiredService<Microsoft.Extensions.Logging.ILogger<StoreConnector>>(), adopt: true);
            sp.GetService<Microsoft.Extensions.Hosting.IHostApplicationLifetime>()?.ApplicationStopping.Register(connector.Close);
            return connector;
        });
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
        services.AddSingleton<BindRawDatagram>(RawUdpSocket.Bind);
        services.AddSingleton<Responder>();
        services.AddSingleton<DaemonHealth>();
        // First: a pin table the operator uses refuses the start before anything else began (PostgreSQL included);
        // and last to stop, after everything that pins.
        services.AddHostedService(sp => sp.GetRequiredService<PinService>());
        // Hosts stop services in reverse order: the appender stops after the others and stores what they emitted.
        // Every source and actuator runs under a supervisor that starts it again when it fails.
        services.AddSupervised(sp => sp.GetRequiredService<Appender>(), "appender");
        services.AddSupervised(sp => sp.GetRequiredService<Store.ProbeRecorder>(), "probe recorder");
        services.AddSupervised(sp => sp.GetRequiredService<PolicyLoop>(), "policy loop");
        services.AddHostedService<ConfigPublisher>();
        services.AddSupervised(sp => ActivatorUtilities.CreateInstance<HostSource>(sp), "host monitor");
        services.AddSupervised(sp => new DnsSource(config, sp.GetRequiredService<CandidateTracker>(), sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<Microsoft.Extensions.Logging.ILogger<DnsSource>>()), "DNS");
        services.AddSupervised(sp => ActivatorUtilities.CreateInstance<WireGuardPoller>(sp), "WireGuard poller");
        services.AddHostedService(sp => sp.GetRequiredService<Fences>());
        services.AddSupervised(sp => sp.GetRequiredService<Responder>(), "responder");
        services.AddSupervised(sp => sp.GetRequiredService<Prober>(), "prober");
        services.AddSupervised(sp => ActivatorUtilities.CreateInstance<HandshakeProber>(sp), "handshake prober");
        services.AddSupervised(sp => ActivatorUtilities.CreateInstance<Switcher>(sp), "switcher");
        services.AddSupervised(sp => ActivatorUtilities.CreateInstance<Babel.TunnelLinks>(sp), "tunnel links");
        services.AddSupervised(sp => ActivatorUtilities.CreateInstance<Babel.BabelBridge>(sp), "babeld bridge");
        services.AddHostedService<TelemetryGauges>();
        services.TryAddSingleton<Microsoft.Extensions.Hosting.Systemd.ISystemdNotifier, Microsoft.Extensions.Hosting.Systemd.SystemdNotifier>();
        services.AddHostedService(sp => new SystemdWatchdog(sp.GetRequiredService<Inbox>(), sp.GetRequiredService<Microsoft.Extensions.Hosting.Systemd.ISystemdNotifier>(),
            SystemdWatchdog.FromEnvironment(), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<Microsoft.Extensions.Logging.ILogger<SystemdWatchdog>>()));
        services.AddWgRoutedTelemetry(config);
        return services;
    }

    // Not AddHostedService: it adds a factory's type once (TryAddEnumerable), and every supervisor has the same type.
    private static void AddSupervised(this IServiceCollection services, Func<IServiceProvider, Microsoft.Extensions.Hosting.BackgroundService> service, string name) =>
        services.AddSingleton<Microsoft.Extensions.Hosting.IHostedService>(sp => ActivatorUtilities.CreateInstance<Supervisor>(sp, service(sp), name));
}
