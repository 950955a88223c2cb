using FuncGateway.RateLimiting;
using Microsoft.Azure.Functions.Worker;

namespace FuncGateway.Functions;

/// <summary>
/// Deletes expired rate-limit counter rows every five minutes. A timer trigger runs on one instance of a scaled-out
/// app at a time, which is what a clean-up wants (unlike the registry loader, which every instance needs).
/// </summary>
public sealed class RateLimitMaintenanceFunction
{
    /// <summary>The function's name in the host.</summary>
    public const string Name = "RateLimitMaintenance";

    /// <summary>Every five minutes, on the minute (NCRONTAB with seconds).</summary>
    public const string Schedule = "0 */5 * * * *";

    private readonly RateLimitMaintenance _maintenance;

    public RateLimitMaintenanceFunction(RateLimitMaintenance maintenance)
    {
        _maintenance = maintenance;
    }

    [Function(Name)]
    public Task RunAsync([TimerTrigger(Schedule)] TimerInfo timer, CancellationToken cancellationToken) =>
        _maintenance.RunOnceAsync(cancellationToken);
}
