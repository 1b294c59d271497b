using Microsoft.Extensions.Logging;

namespace WgRouted.Service.Store;

public sealed partial class ProbeRecorder
{
    [LoggerMessage(Level = LogLevel.Warning, Message = "Cannot store probe outcomes ({Error}); {Pending} pending, kept until the store answers")]
    private static partial void LogStoreDown(ILogger logger, string error, long pending);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Count} probe outcomes pending in memory; spilling them to {Directory}")]
    private static partial void LogSpilling(ILogger logger, int count, string directory);

    [LoggerMessage(Level = LogLevel.Information, Message = "Probe store back after {Outage}: stored {Count} outcomes, {FromSpills} of them from spill files")]
    private static partial void LogStoreBack(ILogger logger, TimeSpan outage, int count, int fromSpills);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Files} probe spill files ({Count} outcomes) in {Directory}, to store first")]
    private static partial void LogSpillsFound(ILogger logger, int files, long count, string directory);

    [LoggerMessage(Level = LogLevel.Error, Message = "Cannot write the probe spill file {Path}; {Count} outcomes stay in memory: {Error}")]
    private static partial void LogSpillFailed(ILogger logger, string path, int count, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Path} cannot be read ({Error}); moved to the .rejected file")]
    private static partial void LogSpillRejected(ILogger logger, string path, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Dropped {Count} probe partitions past {Days} days of retention: {Partitions}")]
    private static partial void LogRetention(ILogger logger, int count, int days, string partitions);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Probe retention deferred to tomorrow: {Error}")]
    private static partial void LogRetentionDeferred(ILogger logger, string error);
}
