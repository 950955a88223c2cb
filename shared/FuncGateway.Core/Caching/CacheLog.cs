using Microsoft.Extensions.Logging;

namespace FuncGateway.Caching;

/// <summary>The response cache's log events (7100-7199; body transforms have 7000-7099).</summary>
internal static partial class CacheLog
{
    [LoggerMessage(EventId = 7100, Level = LogLevel.Debug, Message = "Route {RouteId}: a response of {Size} bytes is over the cache's entry cap; not stored.")]
    public static partial void EntryTooLarge(ILogger logger, string routeId, long size);

    [LoggerMessage(EventId = 7101, Level = LogLevel.Information, Message = "Cache purge {PurgeId} ({Kind} {Value}) dropped {Count} entries.")]
    public static partial void Purged(ILogger logger, string purgeId, CachePurgeKind kind, string value, int count);

    [LoggerMessage(EventId = 7102, Level = LogLevel.Warning, Message = "Reading the cache purge table failed; entries purged elsewhere may be served until the next read.")]
    public static partial void PurgeReadFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 7103, Level = LogLevel.Warning, Message = "Recording a cache purge failed: {Reason}")]
    public static partial void PurgeWriteFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = 7104, Level = LogLevel.Warning, Message = "The shared cache tier (Redis) failed; the request is served as a miss on it.")]
    public static partial void SharedTierFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 7120, Level = LogLevel.Debug, Message = "The cache purge table could not be created ({Reason}); it is read as empty until a purge creates it.")]
    public static partial void PurgeTableNotCreated(ILogger logger, string reason);
}
