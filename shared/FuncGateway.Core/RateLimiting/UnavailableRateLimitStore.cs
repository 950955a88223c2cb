namespace FuncGateway.RateLimiting;

/// <summary>Stands in when storage settings are missing or malformed: every call fails, so every policy applies its failure policy.</summary>
internal sealed class UnavailableRateLimitStore(string reason) : IRateLimitStore
{
    public Task EnsureTableAsync(CancellationToken cancellationToken = default) => throw new RateLimitStoreException(reason);

    public ValueTask<CounterRow?> ReadAsync(CounterAddress address, CancellationToken cancellationToken = default) => throw new RateLimitStoreException(reason);

    public ValueTask<string?> TryWriteAsync(CounterAddress address, CounterWrite write, string? ifMatch, CancellationToken cancellationToken = default) =>
        throw new RateLimitStoreException(reason);

    public Task<int> DeleteExpiredAsync(DateTimeOffset expiredBefore, int maxRows, CancellationToken cancellationToken = default) => throw new RateLimitStoreException(reason);
}
