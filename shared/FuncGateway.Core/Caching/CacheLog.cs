using Microsoft.Extensions.Logging;

namespace FuncGateway.Caching;

/// <summary>The response cache's log events (7000-7099).</summary>
internal static partial class CacheLog
{
    [LoggerMessage(EventId = 7000, Level = LogLevel.Debug, Message = "Route {RouteId}: a response of {Size} bytes is over the cache's entry cap; not stored.")]
    public static partial void EntryTooLarge(ILogger logger, string routeId, long size);

    [LoggerMessage(EventId = 7001, Level = LogLevel.Information, Message = "Cache purge {PurgeId} ({Kind} {Value}) dropped {Count} entries.")]
    public static partial void Purged(ILogger logger, string purgeId, CachePurgeKind kind, string value, int count);

    [LoggerMessage(EventId = 7002, Level = LogLevel.Warning, Message = "Reading the cache purge table failed; entries purged elsewhere may be served until the next read.")]
    public static partial void PurgeReadFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 7003, Level = LogLevel.Warning, Message = "Recording a cache purge failed: {Reason}")]
    public static partial void PurgeWriteFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = 7004, Level = LogLevel.Warning, Message = "The shared cache tier (Redis) failed; the request is served as a miss on it.")]
    public static partial void SharedTierFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 7020, Level = LogLevel.Debug, Message = "The cache purge table could not be created ({Reason}); it is read as empty until a purge creates it.")]
    public static partial void PurgeTableNotCreated(ILogger logger, string reason);
}
