using Microsoft.Extensions.Logging;

namespace FuncGateway.Discovery;

/// <summary>Discovery's log events (8600-8649; the Consul and Kubernetes sources take 8650-8699).</summary>
internal static partial class DiscoveryLog
{
    [LoggerMessage(8600, LogLevel.Information, "Discovery: pool '{Pool}' ({Source}) now has {Count} discovered instances.")]
    public static partial void InstancesChanged(ILogger logger, string pool, string source, int count);

    [LoggerMessage(8601, LogLevel.Warning, "Discovery: pool '{Pool}' ({Source}) skips discovered instance {Url}: {Reason}")]
    public static partial void InstanceSkipped(ILogger logger, string pool, string source, string url, string reason);

    [LoggerMessage(8602, LogLevel.Error, "Discovery: the {Source} source of pool '{Pool}' stopped unexpectedly; its last instance list stays.")]
    public static partial void SourceFailed(ILogger logger, string pool, string source, Exception exception);

    [LoggerMessage(8603, LogLevel.Warning, "Discovery: the {Source} source of pool '{Pool}' cannot reach its service; keeping the last {Count} instances. {Error}")]
    public static partial void SourceUnreachable(ILogger logger, string pool, string source, int count, string error);

    [LoggerMessage(8604, LogLevel.Information, "Discovery: the {Source} source of pool '{Pool}' reaches its service again.")]
    public static partial void SourceRecovered(ILogger logger, string pool, string source);

    [LoggerMessage(8605, LogLevel.Warning, "Discovery: registration '{Id}' of pool '{Pool}' in {Table} is skipped: {Reason}")]
    public static partial void RegistrationRowSkipped(ILogger logger, string pool, string table, string id, string reason);

    [LoggerMessage(8606, LogLevel.Information, "Discovery: instance '{Id}' of pool '{Pool}' registered at {Url} until {LeaseExpiresAt}, with {Credential}.")]
    public static partial void Registered(ILogger logger, string pool, string id, string url, DateTimeOffset leaseExpiresAt, string credential);

    [LoggerMessage(8607, LogLevel.Information, "Discovery: instance '{Id}' of pool '{Pool}' deregistered, with {Credential}.")]
    public static partial void Deregistered(ILogger logger, string pool, string id, string credential);

    [LoggerMessage(8609, LogLevel.Warning, "Discovery: registration key '{Name}' (FuncGateway:Discovery:Registration:Keys:{Name}:Key) is still an unresolved Key Vault reference: the app cannot read the secret (check the app's identity and its access to the vault); the key is refused until the app restarts with it resolved.")]
    public static partial void RegistrationKeyUnresolved(ILogger logger, string name);

    [LoggerMessage(8608, LogLevel.Warning, "Discovery: disposing the {Source} source of pool '{Pool}' failed.")]
    public static partial void DisposeFailed(ILogger logger, string pool, string source, Exception exception);
}
