using Microsoft.Extensions.Logging;

namespace FuncGateway.Health;

/// <summary>The health checker's log messages (event ids 6020–6029).</summary>
internal static partial class HealthLog
{
    [LoggerMessage(6020, LogLevel.Warning, "Health: instance {Url} of pool '{Pool}' is now {State} ({Reason}).")]
    public static partial void HealthStateChanged(ILogger logger, string pool, string url, string state, string reason);

    [LoggerMessage(6021, LogLevel.Warning, "Health probing failed: {Error}")]
    public static partial void ProbeRoundFailed(ILogger logger, string error);

    [LoggerMessage(6022, LogLevel.Debug, "Health probe round: {Probed} instances probed, {Due} due, {Written} rows written.")]
    public static partial void ProbeRound(ILogger logger, int probed, int due, int written);

    [LoggerMessage(6023, LogLevel.Information, "Health prober lease acquired by {Owner}: this instance probes for the fleet.")]
    public static partial void LeaseAcquired(ILogger logger, string owner);

    [LoggerMessage(6024, LogLevel.Information, "Health prober lease lost by {Owner}: another instance probes now.")]
    public static partial void LeaseLost(ILogger logger, string owner);

    [LoggerMessage(6025, LogLevel.Warning, "Reading the Health table failed; routing keeps the last results. {Error}")]
    public static partial void HealthReadFailed(ILogger logger, string error);

    [LoggerMessage(6026, LogLevel.Information, "Reading the Health table works again.")]
    public static partial void HealthReadRecovered(ILogger logger);
}
