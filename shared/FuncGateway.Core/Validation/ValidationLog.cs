using Microsoft.Extensions.Logging;

namespace FuncGateway.Validation;

/// <summary>Request validation's log lines. Values from the request are never logged: only the route, the rules and counts.</summary>
internal static partial class ValidationLog
{
    [LoggerMessage(EventId = 1200, Level = LogLevel.Information, Message = "Route {RouteId}: request refused, {Count} violation(s), first {In} {Rule}.")]
    public static partial void Refused(ILogger logger, string routeId, int count, string @in, string rule);

    [LoggerMessage(EventId = 1201, Level = LogLevel.Information, Message = "Route {RouteId}: body media type not accepted ({Status}).")]
    public static partial void UnsupportedMediaType(ILogger logger, string routeId, int status);
}
