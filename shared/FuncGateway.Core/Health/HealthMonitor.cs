using FuncGateway.Model;
using FuncGateway.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FuncGateway.Health;

/// <summary>What the last read of the Health table did, for the admin surface.</summary>
internal sealed record HealthReadStatus(DateTimeOffset? LastAttemptAt, DateTimeOffset? LastSuccessAt, string? LastError, int Rows);

/// <summary>
/// Reads the Health table on every gateway instance, every <c>FuncGateway:Health:RefreshIntervalSeconds</c>, and hands
/// the results to the live instances (<see cref="HealthResults.Apply"/>). Separate from the registry
/// poll on purpose: health rows change with every probe, and folding them into the registry's fingerprint would
/// rebuild the whole snapshot each time. Routing never waits on this read; a failed read keeps the last results
/// (and results go stale on their own, see <see cref="HealthCheckSettings.StaleAfter"/>).
/// </summary>
internal sealed class HealthMonitor(
    IHealthStore store,
    HealthResults results,
    IOptions<HealthOptions> options,
    IOptions<GatewayOptions> gatewayOptions,
    TimeProvider time,
    ILogger<HealthMonitor> logger) : BackgroundService
{
    private volatile HealthReadStatus _status = new(null, null, null, 0);

    public HealthReadStatus Status => _status;

    public TimeSpan Interval => TimeSpan.FromSeconds(options.Value.RefreshIntervalSeconds);

    /// <summary>Reads the table once and applies it; never throws for storage trouble.</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        var attemptAt = time.GetUtcNow();
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(gatewayOptions.Value.Registry.ReadTimeoutSeconds), time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
            var records = await store.ReadAllAsync(linked.Token);
            results.Apply(records, complete: true);
            if (_status.LastError is not null)
            {
                HealthLog.HealthReadRecovered(logger);
            }

            _status = new HealthReadStatus(attemptAt, attemptAt, null, records.Count);
        }
        catch (Exception ex) when (ex is RegistryStoreException or OperationCanceledException or IOException or HttpRequestException
                                   && !cancellationToken.IsCancellationRequested)
        {
            var error = ex is OperationCanceledException ? $"Storage did not answer within {gatewayOptions.Value.Registry.ReadTimeoutSeconds} s." : ex.Message;
            if (_status.LastError != error)
            {
                HealthLog.HealthReadFailed(logger, error);
            }

            _status = _status with { LastAttemptAt = attemptAt, LastError = error };
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await RefreshAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // A reader that dies would freeze health for good and, in a hosted service, stop the host.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                HealthLog.HealthReadFailed(logger, ex.GetType().Name + ": " + ex.Message);
            }

            try
            {
                await Task.Delay(Interval, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
