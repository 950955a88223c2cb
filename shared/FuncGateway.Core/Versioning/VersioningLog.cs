using Microsoft.Extensions.Logging;

namespace FuncGateway.Versioning;

/// <summary>API versioning's log lines, source-generated, event ids 8200–8299.</summary>
internal static partial class VersioningLog
{
    [LoggerMessage(8200, LogLevel.Information, "Request refused: {Code}. Version set '{Set}': requested {Requested}, served {Supported}.")]
    public static partial void Refused(ILogger logger, string code, string set, string requested, string supported);
}
