using Microsoft.Extensions.Logging;

namespace FuncGateway.Composition;

/// <summary>Response aggregation's log lines, source-generated, event ids 8400–8499.</summary>
internal static partial class CompositionLog
{
    [LoggerMessage(8400, LogLevel.Warning, "Route '{RouteId}': required part '{Part}' failed ({Reason}, status {Status}); the request gets 502/504 composition_part_failed.")]
    public static partial void RequiredPartFailed(ILogger logger, string routeId, string part, string reason, int status);

    [LoggerMessage(8401, LogLevel.Information, "Route '{RouteId}': optional part '{Part}' failed ({Reason}, status {Status}) and is left out of the response.")]
    public static partial void OptionalPartFailed(ILogger logger, string routeId, string part, string reason, int status);

    [LoggerMessage(8402, LogLevel.Warning, "Route '{RouteId}': the composition template failed: {Reason}")]
    public static partial void TemplateFailed(ILogger logger, string routeId, string reason);

    [LoggerMessage(8404, LogLevel.Warning, "Route '{RouteId}': {What} over {MaxBytes} bytes (FuncGateway:Forwarding:MaxComposedResponseBytes); the request gets 502 composition_too_large.")]
    public static partial void TooLarge(ILogger logger, string routeId, string what, long maxBytes);

    [LoggerMessage(8403, LogLevel.Error, "Route '{RouteId}': part '{Part}' failed unexpectedly.")]
    public static partial void PartException(ILogger logger, string routeId, string part, Exception exception);
}
