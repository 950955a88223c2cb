using Azure.Data.Tables;
using FuncGateway.Model;
using FuncGateway.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FuncGateway.Caching;

/// <summary>
/// Fleet-wide purges: records a purge in the purge table and applies it here at once; every
/// <c>FuncGateway:Registry:RefreshIntervalSeconds</c> reads the purges of the last
/// <see cref="CachePurgeTable.Window"/> and applies each one it has not seen, so every instance drops matching entries
/// within one refresh interval (plus one read).
/// </summary>
internal sealed class CachePurger : BackgroundService
{
    private readonly ResponseCacheStore _store;
    private readonly TableClient? _table;
    private readonly string? _unavailable;
    private readonly TimeProvider _time;
    private readonly TimeSpan _interval;
    private readonly ILogger<CachePurger> _logger;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, DateTimeOffset> _seen = new(StringComparer.Ordinal);

    private readonly SharedCacheTier? _shared;
    private bool _createTried;

    public CachePurger(
        ResponseCacheStore store, GatewayTableService tables, IOptions<GatewayOptions> options, TimeProvider time, ILogger<CachePurger> logger,
        SharedCacheTierProvider tiers)
    {
        _shared = tiers.Tier;
        _store = store;
        _time = time;
        _logger = logger;
        _interval = TimeSpan.FromSeconds(options.Value.Registry.RefreshIntervalSeconds);
        if (tables.TryGetClient(out var client, out var reason))
        {
            _table = client.GetTableClient(CachePurgeTable.Name(options.Value.Storage.TablePrefix));
        }
        else
        {
            _unavailable = reason;
        }
    }

    /// <summary>Records the purge for the fleet and applies it here. False (with the reason) when it could not be recorded; it is applied here anyway.</summary>
    public async Task<(int Dropped, string? Error)> PurgeAsync(CachePurge purge, CancellationToken cancellationToken = default)
    {
        var dropped = await ApplyAsync(purge, cancellationToken);
        if (_table is null)
        {
            CacheLog.PurgeWriteFailed(_logger, _unavailable ?? "no table storage");
            return (dropped, _unavailable ?? "Table storage is not configured.");
        }

        try
        {
            await CachePurgeTable.AddAsync(_table, purge, cancellationToken);
            return (dropped, null);
        }
        catch (Azure.RequestFailedException ex)
        {
            CacheLog.PurgeWriteFailed(_logger, ex.ErrorCode ?? ex.Status.ToString(System.Globalization.CultureInfo.InvariantCulture));
            return (dropped, $"The purge table could not be written ({ex.Status}).");
        }
    }

    /// <summary>Reads the purge table once and applies what is new (the poller's one tick; tests call it).</summary>
    internal async Task PollAsync(CancellationToken cancellationToken)
    {
        if (_table is null)
        {
            return;
        }

        var now = _time.GetUtcNow();
        var purges = await CachePurgeTable.ReadSinceAsync(_table, now - CachePurgeTable.Window, cancellationToken);
        if (purges is null)
        {
            await CreateTableOnceAsync(cancellationToken);
            return;
        }

        foreach (var purge in purges)
        {
            await ApplyAsync(purge, cancellationToken);
        }

        lock (_lock)
        {
            // Forget what is out of the window: it will not be read again.
            foreach (var old in _seen.Where(p => p.Value < now - (2 * CachePurgeTable.Window)).Select(static p => p.Key).ToList())
            {
                _seen.Remove(old);
            }
        }
    }

    /// <summary>
    /// Creates the purge table when a read found none (no purge was ever requested), so that later reads find it empty
    /// rather than failing with a 404 every interval (an exception thrown through the storage client's layers each
    /// time). Tried once: without the permission to create tables, reads go on answering "none".
    /// </summary>
    private async Task CreateTableOnceAsync(CancellationToken cancellationToken)
    {
        if (_createTried)
        {
            return;
        }

        _createTried = true;
        try
        {
            await _table!.CreateIfNotExistsAsync(cancellationToken);
        }
        catch (Azure.RequestFailedException ex)
        {
            var reason = ex.ErrorCode ?? ex.Status.ToString(System.Globalization.CultureInfo.InvariantCulture);
            CacheLog.PurgeTableNotCreated(_logger, reason);
        }
    }

    private async ValueTask<int> ApplyAsync(CachePurge purge, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (!_seen.TryAdd(purge.Id, _time.GetUtcNow()))
            {
                return 0;
            }
        }

        var count = _store.RemoveWhere(purge.Matches);
        if (_shared is not null)
        {
            // Every instance removes by tag as it applies the purge, so each one's view of the tag is current too.
            await _shared.PurgeAsync(purge, cancellationToken);
        }

        if (_logger.IsEnabled(LogLevel.Information))
        {
            var value = PrintableText.Of(purge.Value);
            CacheLog.Purged(_logger, purge.Id, purge.Kind, value, count);
        }

        return count;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await PollAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // A failed read is retried at the next interval; the gateway keeps serving.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                CacheLog.PurgeReadFailed(_logger, ex);
            }

            try
            {
                await Task.Delay(_interval, _time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
