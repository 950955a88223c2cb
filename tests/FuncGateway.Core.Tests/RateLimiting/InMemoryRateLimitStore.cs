using FuncGateway.RateLimiting;

namespace FuncGateway.Core.Tests.RateLimiting;

/// <summary>
/// An instrumented counter store with the table's concurrency rules (ETags, 409 on a duplicate insert, 412 on a stale
/// ETag): counts every operation, and can fail, inject conflicts, or hold operations until released.
/// </summary>
internal sealed class InMemoryRateLimitStore : IRateLimitStore
{
    private readonly Lock _gate = new();
    private readonly Dictionary<CounterAddress, (CounterWrite Data, string ETag)> _rows = [];
    private long _etag;
    private int _reads;
    private int _writes;
    private int _conflicts;
    private int _attempts;

    /// <summary>When set, every operation throws this storage failure.</summary>
    public string? FailWith { get; set; }

    /// <summary>The next N writes answer "someone else wrote first" after applying nothing.</summary>
    public int ConflictsToInject { get; set; }

    /// <summary>When set, operations wait for it before doing anything (to hold requests in flight).</summary>
    public TaskCompletionSource? Hold { get; set; }

    public int Reads => Volatile.Read(ref _reads);

    public int Writes => Volatile.Read(ref _writes);

    public int Conflicts => Volatile.Read(ref _conflicts);

    /// <summary>Reads and writes that succeeded (answered by storage).</summary>
    public int Operations => Reads + Writes;

    /// <summary>Every call, including those that failed.</summary>
    public int Attempts => Volatile.Read(ref _attempts);

    public IReadOnlyDictionary<CounterAddress, CounterWrite> Rows
    {
        get
        {
            lock (_gate)
            {
                return _rows.ToDictionary(r => r.Key, r => r.Value.Data);
            }
        }
    }

    public Task EnsureTableAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;

    public async ValueTask<CounterRow?> ReadAsync(CounterAddress address, CancellationToken cancellationToken = default)
    {
        await BeforeAsync(cancellationToken);
        Interlocked.Increment(ref _reads);
        lock (_gate)
        {
            return _rows.TryGetValue(address, out var row)
                ? new CounterRow(row.Data.Count, row.Data.Tokens, row.Data.UpdatedAtMs, row.ETag)
                : null;
        }
    }

    public async ValueTask<string?> TryWriteAsync(CounterAddress address, CounterWrite write, string? ifMatch, CancellationToken cancellationToken = default)
    {
        await BeforeAsync(cancellationToken);
        Interlocked.Increment(ref _writes);
        lock (_gate)
        {
            if (ConflictsToInject > 0)
            {
                ConflictsToInject--;
                _conflicts++;
                return null;
            }

            var exists = _rows.TryGetValue(address, out var current);
            if ((ifMatch is null && exists) || (ifMatch is not null && (!exists || current.ETag != ifMatch)))
            {
                _conflicts++;
                return null;
            }

            var etag = "W/\"" + Interlocked.Increment(ref _etag) + "\"";
            _rows[address] = (write, etag);
            return etag;
        }
    }

    public async Task<int> DeleteExpiredAsync(DateTimeOffset expiredBefore, int maxRows, CancellationToken cancellationToken = default)
    {
        await BeforeAsync(cancellationToken);
        lock (_gate)
        {
            var expired = _rows.Where(r => r.Value.Data.Expires < expiredBefore).Take(maxRows).Select(r => r.Key).ToList();
            foreach (var key in expired)
            {
                _rows.Remove(key);
            }

            return expired.Count;
        }
    }

    /// <summary>Sets a row directly, as another instance would have written it.</summary>
    public void Put(CounterAddress address, CounterWrite write)
    {
        lock (_gate)
        {
            _rows[address] = (write, "W/\"" + Interlocked.Increment(ref _etag) + "\"");
        }
    }

    private async Task BeforeAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _attempts);
        if (Hold is { } hold)
        {
            await hold.Task.WaitAsync(cancellationToken);
        }

        if (FailWith is { } message)
        {
            throw new RateLimitStoreException(message);
        }
    }
}
