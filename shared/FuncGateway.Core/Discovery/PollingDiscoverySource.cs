using FuncGateway.Model;
using Microsoft.Extensions.Logging;

namespace FuncGateway.Discovery;

/// <summary>
/// A source that asks its service again and again (DNS, SRV, the registrations table): publishes every answer (the
/// discovery service keeps only changes), keeps the last list through an outage, logs the outage and the recovery
/// once each, and retries with a backoff.
/// </summary>
internal abstract class PollingDiscoverySource(string pool, string kind, TimeProvider time, ILogger logger) : IDiscoverySource, IDiscoverySourceStatus
{
    private volatile StatusSnapshot _status = new(null, null);

    public string? LastError => _status.Error;

    public DateTimeOffset? LastErrorAt => _status.At;

    protected string Pool { get; } = pool;

    protected TimeProvider Time { get; } = time;

    protected ILogger Logger { get; } = logger;

    /// <summary>One look-up: the complete current list and how long to wait before the next. Throws when the service cannot be reached.</summary>
    protected abstract Task<(IReadOnlyList<DiscoveredInstance> Instances, TimeSpan Next)> LookupAsync(CancellationToken cancellationToken);

    /// <summary>How long to wait after the <paramref name="failures"/>-th failure in a row.</summary>
    protected abstract TimeSpan RetryDelay(int failures);

    public async Task WatchAsync(Func<IReadOnlyList<DiscoveredInstance>, ValueTask> publish, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(publish);
        var failures = 0;
        var lastCount = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            TimeSpan wait;
            try
            {
                var (instances, next) = await LookupAsync(cancellationToken);
                if (failures > 0)
                {
                    DiscoveryLog.SourceRecovered(Logger, Pool, kind);
                }

                failures = 0;
                _status = new(null, null);
                lastCount = instances.Count;
                await publish(instances);
                wait = next;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // Whatever the service does, the source keeps its last list and tries again.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                var error = ex is DiscoveryLookupException ? ex.Message : $"{ex.GetType().Name}: {ex.Message}";
                if (failures == 0)
                {
                    DiscoveryLog.SourceUnreachable(Logger, Pool, kind, lastCount, PrintableText.Of(error));
                }

                failures++;
                _status = new(error, Time.GetUtcNow());
                wait = RetryDelay(failures);
            }

            try
            {
                await Task.Delay(wait, Time, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    public virtual ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private sealed record StatusSnapshot(string? Error, DateTimeOffset? At);
}

/// <summary>The service answered, but not with something the source can use (a DNS error code, a failed table query).</summary>
internal sealed class DiscoveryLookupException(string message, Exception? inner = null) : Exception(message, inner);
