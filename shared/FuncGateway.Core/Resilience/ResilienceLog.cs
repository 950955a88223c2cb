using Microsoft.Extensions.Logging;

namespace FuncGateway.Resilience;

/// <summary>Log lines of load balancing, health checking, circuit breaking and retries (event ids 6000–6999).</summary>
internal static partial class ResilienceLog
{
    [LoggerMessage(6000, LogLevel.Warning, "Circuit opened for instance {Url} of pool '{Pool}': out of rotation for {BreakSeconds} s.")]
    public static partial void CircuitOpened(ILogger logger, string pool, string url, double breakSeconds);

    [LoggerMessage(6001, LogLevel.Information, "Circuit half-open for instance {Url} of pool '{Pool}': one probe request let through.")]
    public static partial void CircuitHalfOpened(ILogger logger, string pool, string url);

    [LoggerMessage(6002, LogLevel.Information, "Circuit closed for instance {Url} of pool '{Pool}': back in rotation.")]
    public static partial void CircuitClosed(ILogger logger, string pool, string url);

    [LoggerMessage(6010, LogLevel.Debug, "Retrying route '{RouteId}' (attempt {Attempt}) after {Error} from {Destination}, in {DelayMs} ms.")]
    public static partial void Retrying(ILogger logger, string routeId, int attempt, string error, string destination, double delayMs);

    [LoggerMessage(6011, LogLevel.Warning, "Retry budget of route '{RouteId}' is spent; not retrying {Error} from {Destination}.")]
    public static partial void RetryBudgetExhausted(ILogger logger, string routeId, string error, string destination);

    [LoggerMessage(6012, LogLevel.Warning, "No instance of pool '{Pool}' is available for route '{RouteId}' (all down or circuits open).")]
    public static partial void NoInstanceAvailable(ILogger logger, string routeId, string pool);

    [LoggerMessage(6013, LogLevel.Information, "Route '{RouteId}' served its fallback response ({StatusCode}).")]
    public static partial void FallbackServed(ILogger logger, string routeId, int statusCode);
}
