using Microsoft.Extensions.Logging;

namespace FuncGateway.Discovery.Consul;

internal static partial class ConsulLog
{
    [LoggerMessage(9300, LogLevel.Warning, "Consul discovery for pool '{Pool}' (service '{Service}') failed: {Reason}. Keeping the last list ({Instances} instances) and retrying with backoff; logged once per outage.")]
    public static partial void Unreachable(ILogger logger, string pool, string service, string reason, int instances);

    [LoggerMessage(9301, LogLevel.Information, "Consul discovery for pool '{Pool}' (service '{Service}') recovered after {Failures} failed attempts.")]
    public static partial void Recovered(ILogger logger, string pool, string service, int failures);

    [LoggerMessage(9302, LogLevel.Debug, "Consul discovery for pool '{Pool}' (service '{Service}'): {Instances} passing instances at index {Index}.")]
    public static partial void Changed(ILogger logger, string pool, string service, int instances, ulong index);

    [LoggerMessage(9303, LogLevel.Debug, "Consul discovery for pool '{Pool}': the index went back from {Previous} to {Index}; querying again from 0.")]
    public static partial void IndexReset(ILogger logger, string pool, ulong previous, ulong index);
}
