using Microsoft.Extensions.Logging;

namespace FuncGateway.Concurrency;

/// <summary>The concurrency limit's log lines, source-generated, event ids 8100–8199.</summary>
internal static partial class ConcurrencyLog
{
    [LoggerMessage(8100, LogLevel.Debug, "Request on route '{RouteId}' refused: {Limit} requests already in flight on this instance (MaxConcurrency).")]
    public static partial void Limited(ILogger logger, string routeId, int limit);
}
