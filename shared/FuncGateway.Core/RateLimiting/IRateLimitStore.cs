namespace FuncGateway.RateLimiting;

/// <summary>Where one counter row lives: the table's PartitionKey and RowKey.</summary>
internal readonly record struct CounterAddress(string PartitionKey, string RowKey);

/// <summary>A counter row as read: the permits taken in its window, or a token bucket's level at <see cref="UpdatedAtMs"/>.</summary>
internal sealed record CounterRow(long Count, double Tokens, long UpdatedAtMs, string ETag);

/// <summary>What a counter row is written with.</summary>
/// <param name="Count">Permits taken in the window (window algorithms).</param>
/// <param name="Tokens">Tokens left (token bucket).</param>
/// <param name="UpdatedAtMs">When <paramref name="Tokens"/> was computed, Unix milliseconds (token bucket).</param>
/// <param name="Expires">After this the row means nothing any more and maintenance may delete it.</param>
/// <param name="WindowStart">The window's start (window algorithms), for people reading the table.</param>
/// <param name="Limit">The row's limit, for people reading the table.</param>
/// <param name="Policy">The policy name, for people reading the table.</param>
/// <param name="PartitionBy">What the counter is per (<c>ClientIp</c>, <c>tier=gold&amp;Consumer</c>), never whose: for people reading the table.</param>
internal readonly record struct CounterWrite(
    long Count,
    double Tokens,
    long UpdatedAtMs,
    DateTimeOffset Expires,
    DateTimeOffset? WindowStart,
    long Limit,
    string Policy,
    string PartitionBy);

/// <summary>
/// The rate-limit counters in the <c>{TablePrefix}RateLimits</c> table. The only place that knows the storage SDK;
/// every failure leaves it as a <see cref="RateLimitStoreException"/>.
/// </summary>
internal interface IRateLimitStore
{
    /// <summary>Creates the table if it does not exist.</summary>
    Task EnsureTableAsync(CancellationToken cancellationToken = default);

    /// <summary>Reads one row; null when it does not exist.</summary>
    ValueTask<CounterRow?> ReadAsync(CounterAddress address, CancellationToken cancellationToken = default);

    /// <summary>
    /// Writes a row: replaces it if its ETag is still <paramref name="ifMatch"/>, or inserts it when
    /// <paramref name="ifMatch"/> is null. Returns the new ETag, or null when another writer got there first (412 on
    /// replace, 409 on insert): read again and retry.
    /// </summary>
    ValueTask<string?> TryWriteAsync(CounterAddress address, CounterWrite write, string? ifMatch, CancellationToken cancellationToken = default);

    /// <summary>Deletes up to <paramref name="maxRows"/> rows that expired before <paramref name="expiredBefore"/>; returns how many.</summary>
    Task<int> DeleteExpiredAsync(DateTimeOffset expiredBefore, int maxRows, CancellationToken cancellationToken = default);
}

/// <summary>The counters could not be reached or refused the operation; the message is safe to log.</summary>
public sealed class RateLimitStoreException : Exception
{
    /// <summary>Creates the exception.</summary>
    public RateLimitStoreException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception.</summary>
    public RateLimitStoreException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public RateLimitStoreException(string message)
        : base(message)
    {
    }
}
