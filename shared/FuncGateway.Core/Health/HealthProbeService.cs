using FuncGateway.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FuncGateway.Health;

/// <summary>
/// The server's prober: every <c>ProbeTickSeconds</c>, takes or renews a lease row in the Health table (ETag-guarded,
/// expiring after <c>LeaseSeconds</c>) and, only while it holds it, runs a probe round. Of a fleet of servers one
/// probes at a time; when it stops (or dies) another takes over once the lease expires. The Functions app does not
/// run this: its timer trigger is already a singleton.
/// </summary>
internal sealed class HealthProbeService(
    HealthProber prober,
    IHealthStore store,
    IOptions<HealthOptions> options,
    TimeProvider time,
    ILogger<HealthProbeService> logger) : BackgroundService
{
    private bool _holding;
    private string? _lastError;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        if (!settings.ProbeEnabled)
        {
            return;
        }

        var tick = TimeSpan.FromSeconds(settings.ProbeTickSeconds);
        var lease = TimeSpan.FromSeconds(Math.Max(settings.LeaseSeconds, settings.ProbeTickSeconds * 2));
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var now = time.GetUtcNow();
                var holding = await store.TryAcquireLeaseAsync(prober.Id, now, now + lease, stoppingToken);
                if (holding != _holding)
                {
                    if (holding)
                    {
                        HealthLog.LeaseAcquired(logger, prober.Id);
                    }
                    else
                    {
                        HealthLog.LeaseLost(logger, prober.Id);
                    }
                }

                _holding = holding;
                _lastError = null;
                prober.SetLeaseHolder(holding);
                if (holding)
                {
                    await prober.RunOnceAsync(stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // A background loop that dies would stop the host (or probing for good): log and try again next tick.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                // Storage trouble repeats every tick; say it once per distinct error.
                var error = ex is RegistryStoreException or IOException or HttpRequestException ? ex.Message : ex.GetType().Name + ": " + ex.Message;
                _holding = false;
                prober.SetLeaseFailed(error);
                if (error != _lastError)
                {
                    HealthLog.ProbeRoundFailed(logger, error);
                    _lastError = error;
                }
            }

            try
            {
                await Task.Delay(tick, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        if (_holding)
        {
            // Hand over at once rather than after the lease expires.
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2), time);
                await store.ReleaseLeaseAsync(prober.Id, timeout.Token);
            }
            catch (Exception ex) when (ex is RegistryStoreException or OperationCanceledException or IOException or HttpRequestException)
            {
                HealthLog.ProbeRoundFailed(logger, "Releasing the prober lease failed: " + ex.Message);
            }

            _holding = false;
            prober.SetLeaseHolder(false);
        }
    }
}
