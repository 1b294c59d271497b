using System.Net;

namespace WgRouted.Integrations.Babel;

public sealed record BabelControlOptions
{
    /// <summary>babeld's control socket (<see cref="BabelEndpoint.Parse"/> reads the `Babel:Control` setting).</summary>
    public required EndPoint Endpoint { get; init; }

    /// <summary>
    /// Connect and greeting together. babeld stops accepting with 4 clients, yet the kernel completes a fifth
    /// client's connect (listen backlog 2): without this bound the fifth would wait for a greeting forever.
    /// </summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>babeld answers in the same loop iteration; a longer silence means it is stuck or gone.</summary>
    public TimeSpan CommandTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The first retry after a failure or a lost connection; doubled after each failure.</summary>
    public TimeSpan ReconnectDelay { get; init; } = TimeSpan.FromMilliseconds(500);

    public TimeSpan MaxReconnectDelay { get; init; } = TimeSpan.FromSeconds(10);
}
