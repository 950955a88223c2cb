using Microsoft.Extensions.Logging;

namespace FuncGateway.Discovery.Kubernetes;

internal static partial class KubernetesLog
{
    [LoggerMessage(9400, LogLevel.Warning, "Kubernetes discovery for pool '{Pool}' (service {Namespace}/{Service}) failed: {Reason}. Keeping the last list ({Instances} instances) and retrying with backoff; logged once per outage.")]
    public static partial void Unreachable(ILogger logger, string pool, string @namespace, string service, string reason, int instances);

    [LoggerMessage(9401, LogLevel.Information, "Kubernetes discovery for pool '{Pool}' (service {Namespace}/{Service}) recovered after {Failures} failed attempts.")]
    public static partial void Recovered(ILogger logger, string pool, string @namespace, string service, int failures);

    [LoggerMessage(9402, LogLevel.Debug, "Kubernetes discovery for pool '{Pool}': {Instances} instances from {Slices} EndpointSlices at resourceVersion {ResourceVersion}.")]
    public static partial void Changed(ILogger logger, string pool, int instances, int slices, string? resourceVersion);

    [LoggerMessage(9403, LogLevel.Debug, "Kubernetes discovery for pool '{Pool}': resourceVersion {ResourceVersion} is gone (410); listing again.")]
    public static partial void Gone(ILogger logger, string pool, string? resourceVersion);
}
