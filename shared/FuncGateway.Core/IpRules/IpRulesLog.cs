using Microsoft.Extensions.Logging;

namespace FuncGateway.IpRules;

/// <summary>The IP rules' log lines, source-generated, event ids 8000–8099.</summary>
internal static partial class IpRulesLog
{
    [LoggerMessage(8000, LogLevel.Debug, "Request on route '{RouteId}' from {Client} refused by its IP rules: {Reason}.")]
    public static partial void Denied(ILogger logger, string routeId, string client, string reason);
}
