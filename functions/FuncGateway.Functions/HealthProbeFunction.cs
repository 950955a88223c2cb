using FuncGateway.Health;
using Microsoft.Azure.Functions.Worker;

namespace FuncGateway.Functions;

/// <summary>
/// Probes upstream health for the whole app every five seconds. Timer triggers run on one instance of a scaled-out
/// app at a time, so the fleet probes each instance once per interval; every instance reads the results from the
/// Health table. Pools are probed when their own <c>intervalSeconds</c> is due, so five seconds is the finest grain.
/// </summary>
public sealed class HealthProbeFunction
{
    /// <summary>The function's name in the host (metadata, logs, telemetry).</summary>
    public const string Name = "HealthProbe";

    /// <summary>NCRONTAB with seconds: every five seconds.</summary>
    public const string Schedule = "*/5 * * * * *";

    private readonly HealthProber _prober;

    public HealthProbeFunction(HealthProber prober)
    {
        _prober = prober;
    }

    [Function(Name)]
    public Task RunAsync([TimerTrigger(Schedule)] TimerInfo timer, CancellationToken cancellationToken) => _prober.RunOnceAsync(cancellationToken);
}
