using Microsoft.Extensions.Logging;

namespace WgRouted.Integrations.Babel;

public sealed partial class BabelControl
{
    [LoggerMessage(Level = LogLevel.Information, Message = "{Outcome} to babeld at {Endpoint} ({Version}, router-id {MyId}): {Interfaces} interfaces, {Neighbours} neighbours, {XRoutes} xroutes, {Routes} routes")]
    private partial void LogConnected(string endpoint, string outcome, string version, string myId, int interfaces, int neighbours, int xroutes, int routes);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Lost babeld's control connection ({Reason}); reconnecting in {Seconds} s")]
    private partial void LogLost(string reason, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "babeld's control socket {Endpoint} is unavailable ({Reason}); retrying in {Seconds} s")]
    private partial void LogUnavailable(string endpoint, string reason, double seconds);

    [LoggerMessage(Level = LogLevel.Debug, Message = "babeld's control socket {Endpoint} still unavailable after {Attempts} attempts ({Reason}); retrying in {Seconds} s")]
    private partial void LogStillUnavailable(string endpoint, int attempts, string reason, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "babeld refused '{Command}': {Reply} ({Hint})")]
    private partial void LogRefused(string command, string reply, string hint);

    [LoggerMessage(Level = LogLevel.Warning, Message = "babeld speaks control protocol {Protocol}, version {Version}: this client knows protocol 1.0 of babeld 1.x; going on, skipping lines it cannot parse")]
    private partial void LogUnknownVersion(string protocol, string version);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Skipped a line from babeld: '{Text}': {Problem}")]
    private partial void LogInvalidLine(string text, string problem);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Skipped a line of an unknown kind from babeld: '{Text}'")]
    private partial void LogUnknownLine(string text);

    [LoggerMessage(Level = LogLevel.Warning, Message = "babeld sent '{Reply}' with no command waiting for it")]
    private partial void LogUnexpectedReply(string reply);
}
