using Microsoft.Extensions.Logging;

namespace FuncGateway.RateLimiting;

/// <summary>The rate limiter's log lines, source-generated, event ids 5000–5999.</summary>
internal static partial class RateLimitLog
{
    [LoggerMessage(5000, LogLevel.Warning, "Rate-limit storage failed; policies apply their failure policy (fail-open: local limits; fail-closed: 503) for the next {BackoffSeconds} s. {Error}")]
    public static partial void StorageFailed(ILogger logger, double backoffSeconds, string error);

    [LoggerMessage(5001, LogLevel.Information, "Rate-limit storage reachable again; shared counters are back in use.")]
    public static partial void StorageRecovered(ILogger logger);

    [LoggerMessage(5002, LogLevel.Warning, "Rate-limit counter of policy '{Policy}' kept changing under concurrent writers ({Attempts} attempts); this batch gets the failure policy. Consider more Shards.")]
    public static partial void ContentionExhausted(ILogger logger, string policy, int attempts);

    [LoggerMessage(5003, LogLevel.Warning, "Could not create the rate-limit table '{Table}' at start-up; it is created on first use. {Error}")]
    public static partial void EnsureTableFailed(ILogger logger, string table, string error);

    [LoggerMessage(5004, LogLevel.Information, "Rate-limit maintenance deleted {Deleted} expired counter rows.")]
    public static partial void MaintenanceDeleted(ILogger logger, int deleted);

    [LoggerMessage(5005, LogLevel.Warning, "Rate-limit maintenance failed after deleting {Deleted} rows: {Error}")]
    public static partial void MaintenanceFailed(ILogger logger, int deleted, string error);

    [LoggerMessage(5006, LogLevel.Warning, "Policy '{Policy}' tracks more than {Max} partitions on this instance; dropped {Dropped} (idle ones first).")]
    public static partial void PartitionsTrimmed(ILogger logger, string policy, int max, int dropped);

    [LoggerMessage(5007, LogLevel.Debug, "Request on route '{RouteId}' rejected by rate-limit policy '{Policy}' (retry after {RetryAfterSeconds} s).")]
    public static partial void Rejected(ILogger logger, string routeId, string policy, long retryAfterSeconds);

    [LoggerMessage(5008, LogLevel.Error, "Rate-limit counter of policy '{Policy}' failed unexpectedly; its waiting requests get the failure policy.")]
    public static partial void CounterFailed(ILogger logger, string policy, Exception exception);

    [LoggerMessage(5010, LogLevel.Information, "Rate-limit counter rows are keyed by HMAC-SHA256 of the partition key; the secret comes from: {Source}.")]
    public static partial void CounterKeys(ILogger logger, CounterKeySource source);

    [LoggerMessage(5011, LogLevel.Warning, "This instance's clock is {SkewSeconds} s off the storage service's (more than {ThresholdSeconds} s; estimate within {UncertaintySeconds} s). Rate-limit windows follow the storage clock, so limits still hold; fix this machine's time synchronisation for everything else.")]
    public static partial void ClockSkewed(ILogger logger, double skewSeconds, double thresholdSeconds, double uncertaintySeconds);

    [LoggerMessage(5012, LogLevel.Information, "This instance's clock is within the skew threshold of the storage service's again ({SkewSeconds} s off).")]
    public static partial void ClockSkewResolved(ILogger logger, double skewSeconds);

    [LoggerMessage(5009, LogLevel.Warning, "Route '{RouteId}' answered 503 because rate-limit policy '{Policy}' cannot reach its counters and fails closed.")]
    public static partial void FailedClosed(ILogger logger, string routeId, string policy);
}
