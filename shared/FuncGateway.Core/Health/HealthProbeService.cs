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
                var holding = await TakeLeaseAsync(lease, stoppingToken);
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
                    await RunRoundHoldingLeaseAsync(tick, lease, stoppingToken);
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

    /// <summary>
    /// Runs one probe round, renewing the lease every tick while it runs: a round lasts as long as its slowest probe
    /// (a <c>timeoutSeconds</c> of up to 60 s against an instance that never answers), which may be longer than the
    /// lease, and another server must not take the lease and probe the same instances at the same time.
    /// </summary>
    private async Task RunRoundHoldingLeaseAsync(TimeSpan tick, TimeSpan lease, CancellationToken stoppingToken)
    {
        var round = prober.RunOnceAsync(stoppingToken);
        try
        {
            while (!round.IsCompleted && !stoppingToken.IsCancellationRequested)
            {
                using var wake = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                var finished = await Task.WhenAny(round, Task.Delay(tick, time, wake.Token)) == round;
                await wake.CancelAsync();
                if (finished || stoppingToken.IsCancellationRequested || !await TakeLeaseAsync(lease, stoppingToken))
                {
                    // Done, stopping, or the lease was lost (taken over after a storage outage): the next tick says so.
                    break;
                }
            }
        }
        finally
        {
            // The round handles its own failures; whatever ends the renewals, it is awaited (and never left unobserved).
            await round;
        }
    }

    /// <summary>Takes the lease, or renews it, for <paramref name="lease"/> from now; false when another server holds it.</summary>
    private async Task<bool> TakeLeaseAsync(TimeSpan lease, CancellationToken cancellationToken)
    {
        // Bounded: a call that hangs (storage answering 503 with a long Retry-After, a black-holed connection) would
        // leave this instance saying it holds the lease, with no error, while nothing is probed.
        using var deadline = prober.StorageDeadline(cancellationToken);
        var now = time.GetUtcNow();
        try
        {
            return await store.TryAcquireLeaseAsync(prober.Id, now, now + lease, deadline.Token);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new RegistryStoreException(prober.StorageTimedOut("take the prober lease in"), ex);
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
