using Microsoft.Extensions.Logging;

namespace WgRouted.Integrations.Netlink;

public sealed partial class HostMonitor
{
    [LoggerMessage(Level = LogLevel.Warning, Message = "Netlink notifications overflowed the receive buffer (ENOBUFS); resyncing by dump")]
    private partial void LogOverflow();

    [LoggerMessage(Level = LogLevel.Error, Message = "Bad netlink notification (type {Type}): {Problem}; resyncing by dump")]
    private partial void LogBadMessage(ushort type, string problem);

    [LoggerMessage(Level = LogLevel.Error, Message = "Resync by dump ({Reason}) failed; retrying")]
    private partial void LogResyncFailed(string reason, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Resynced by dump ({Reason}): {Links} links, {Addresses} addresses, {Routes} routes, {Rules} rules, {Changes} changes")]
    private partial void LogResync(string reason, int links, int addresses, int routes, int rules, int changes);
}
