using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FuncGateway.RateLimiting;

/// <summary>
/// Deletes expired counter rows. The Functions app runs it from a timer function (one instance at a time); the
/// server from a background service. A row expires when its window can no longer matter (a sliding window's row
/// one window later, as it is the next window's "previous") or when its token bucket would be full again; it is
/// deleted <c>RetentionSeconds</c> after that.
/// </summary>
public sealed class RateLimitMaintenance
{
    /// <summary>Rows deleted per run at most, so one run stays short; the next run continues.</summary>
    public const int MaxRowsPerRun = 20_000;

    private const int BatchSize = 2_000;

    private readonly IRateLimitStore _store;
    private readonly StorageClock _clock;
    private readonly RateLimitOptions _options;
    private readonly ILogger _logger;

    internal RateLimitMaintenance(IRateLimitStore store, StorageClock clock, IOptions<RateLimitOptions> options, ILogger<RateLimitMaintenance> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _store = store;
        _clock = clock;
        _options = options.Value;
        _logger = logger;
    }

    /// <summary>Deletes what expired; returns the number of rows deleted. Storage trouble is logged, not thrown.</summary>
    public async Task<int> RunOnceAsync(CancellationToken cancellationToken = default)
    {
        var total = 0;
        try
        {
            // Rows expire on the storage clock (the one the limiters write them with): set it before judging them.
            if (!_clock.IsSynchronized)
            {
                await _store.EnsureTableAsync(cancellationToken);
            }

            var before = DateTimeOffset.FromUnixTimeMilliseconds(_clock.NowMs) - TimeSpan.FromSeconds(_options.RetentionSeconds);
            while (total < MaxRowsPerRun)
            {
                var deleted = await _store.DeleteExpiredAsync(before, BatchSize, cancellationToken);
                total += deleted;
                if (deleted < BatchSize)
                {
                    break;
                }
            }
        }
        catch (RateLimitStoreException ex)
        {
            RateLimitLog.MaintenanceFailed(_logger, total, ex.Message);
            return total;
        }

        if (total > 0)
        {
            RateLimitLog.MaintenanceDeleted(_logger, total);
        }

        return total;
    }
}
