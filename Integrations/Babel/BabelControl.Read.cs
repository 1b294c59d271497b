using System.Net.Sockets;

namespace WgRouted.Integrations.Babel;

public sealed partial class BabelControl
{
    private const int ReceiveBufferSize = 64 * 1024;

    /// <summary>Reads until the connection ends, then ends the session; returns why it ended.</summary>
    private async Task<string> ReadLoopAsync(BabelSession session)
    {
        string reason;
        try
        {
            reason = await ReadAsync(session);
        }
        catch (OperationCanceledException) when (session.Stopping.IsCancellationRequested)
        {
            reason = session.AbortReason ?? "stopped";
        }
        catch (SocketException e)
        {
            reason = e.Message;
        }
        catch (Exception e)
        {
            End(session, e.Message);
            throw;
        }
        End(session, reason);
        return reason;
    }

    private async Task<string> ReadAsync(BabelSession session)
    {
        var buffer = new byte[ReceiveBufferSize];
        var framer = new BabelLineFramer();
        var lines = new List<BabelLine>();
        while (true)
        {
            var length = await session.Socket.ReceiveAsync(buffer, SocketFlags.None, session.Stopping);
            if (length == 0)
                return session.AbortReason ?? "babeld closed the connection";
            framer.Feed(buffer.AsSpan(0, length), lines);
            foreach (var line in lines)
                if (Handle(session, line) is { } violation)
                    return violation;
            lines.Clear();
        }
    }

    /// <summary>Returns a reason to drop the connection, if any.</summary>
    private string? Handle(BabelSession session, BabelLine line)
    {
        if (session.Greeting is null)
            return Greet(session, line);
        switch (line)
        {
            case BabelNotification notification:
                lock (_lock)
                {
                    // Until the monitor's dump is in, it goes out whole as BabelConnected.
                    if (_table.Apply(notification) is { } change && session.Synchronized)
                        _events.Writer.TryWrite(change);
                }
                return null;
            case BabelReply reply:
                Answer(session, reply);
                return null;
            case BabelInvalidLine invalid:
                LogInvalidLine(invalid.Text, invalid.Problem);
                return null;
            case BabelUnknownLine unknown:
                LogUnknownLine(unknown.Text);
                return null;
            default:
                LogUnknownLine(line.ToString());
                return null;
        }
    }

    private string? Greet(BabelSession session, BabelLine line)
    {
        if (session.Protocol is null)
        {
            if (line is BabelProtocol protocol)
            {
                session.Protocol = protocol.Version;
                return null;
            }
            return $"not a babeld control socket: it began with '{(line is BabelUnknownLine unknown ? unknown.Text : line)}'";
        }
        switch (line)
        {
            case BabelVersion version:
                session.Version = version.Version;
                break;
            case BabelHost host:
                session.Host = host.Name;
                break;
            case BabelMyId myId:
                session.MyId = myId.Id;
                break;
            case BabelReply { IsOk: true }:
                session.Greeting = new BabelGreeting(session.Protocol, session.Version, session.Host, session.MyId);
                session.Greeted.TrySetResult();
                break;
            case BabelReply reply:
                return $"babeld answered '{reply}' in its greeting";
            default:
                // Perhaps a line a newer babeld adds to its greeting.
                LogUnknownLine(line.ToString());
                break;
        }
        return null;
    }

    private void Answer(BabelSession session, BabelReply reply)
    {
        BabelPendingCommand? pending;
        BabelSnapshot? connected = null;
        lock (_lock)
        {
            pending = session.Pending;
            session.Pending = null;
            if (pending is not null)
            {
                if (pending.Dump)
                {
                    var removed = _table.EndDump(reply.IsOk);
                    if (session.Synchronized)
                        foreach (var change in removed)
                            _events.Writer.TryWrite(change);
                }
                if (pending.Command == BabelCommand.Monitor && reply.IsOk && !session.Synchronized)
                {
                    session.Synchronized = true;
                    _session = session;
                    connected = _table.Snapshot();
                    _events.Writer.TryWrite(new BabelConnected(session.Greeting!, connected, session.Reconnect));
                }
            }
        }
        if (pending is null)
        {
            LogUnexpectedReply(reply.ToString());
            return;
        }
        if (connected is not null)
            LogConnected(_endpoint, session.Reconnect ? "Reconnected" : "Connected", session.Greeting!.Version ?? "?",
                session.Greeting.MyId?.ToString() ?? "?", connected.Interfaces.Count, connected.Neighbours.Count,
                connected.XRoutes.Count, connected.Routes.Count);
        pending.Reply.TrySetResult(reply);
    }

    private void End(BabelSession session, string reason)
    {
        BabelPendingCommand? pending;
        bool synchronized;
        lock (_lock)
        {
            session.Ended = reason;
            pending = session.Pending;
            session.Pending = null;
            synchronized = session.Synchronized;
            if (_session == session)
                _session = null;
            _table.Clear();
            if (synchronized)
                _events.Writer.TryWrite(new BabelDisconnected(reason));
        }
        var failure = new BabelControlException($"babeld connection lost: {reason}");
        session.Greeted.TrySetException(failure);
        pending?.Reply.TrySetException(failure);
    }
}
