namespace FuncGateway.RateLimiting;

/// <summary>
/// <see cref="RateLimitAlgorithm.TokenBucket"/>: one row for ever (RowKey <c>bucket</c>) holding the bucket's level and
/// when it was computed; it refills continuously at this shard's share of the limit per window, up to its share of the
/// burst. Tokens this instance holds are leased for LeaseSeconds (<see cref="TokenLeases"/>), which bounds fast mode's
/// overshoot.
/// </summary>
internal sealed class TokenBucketAlgorithm(RateLimitLimits limits, int shard, long leaseMs) : CounterAlgorithm
{
    private const string BucketRowKey = "bucket";

    private readonly long _burst = limits.ShardBurst(shard);
    private readonly double _ratePerMs = (double)limits.ShardLimit(shard) / limits.WindowMs;

    // Local permits.
    private TokenLeases _leases;

    // The row.
    private double _rowTokens;
    private long _rowUpdatedMs;

    /// <summary>Always the same: the bucket has no windows.</summary>
    public override long Period => 0;

    public override bool Roll(long nowMs) => false;

    public override long DropExpired(long nowMs) => _leases.DropExpired(nowMs);

    public override long Spend(long permits) => _leases.Spend(permits);

    public override bool TryReturn(long permits, long stamp, long nowMs, bool intoSlice)
    {
        if (intoSlice && stamp <= nowMs)
        {
            return false;
        }

        // Tokens on their way back to the row are written back at once; their entry only keeps the local count consistent.
        _leases.Return(permits, intoSlice ? stamp : nowMs + leaseMs);
        return true;
    }

    public override void Hold(long permits, long nowMs)
    {
        if (permits > 0)
        {
            _leases.Add(permits, nowMs + leaseMs);
        }
    }

    public override void Clear() => _leases = default;

    public override string RowKey(long period) => BucketRowKey;

    public override bool MustRead(long period) => false;

    public override void Load(CounterRow? row, long period, long nowMs) =>
        (_rowTokens, _rowUpdatedMs) = row is null ? (_burst, nowMs) : (row.Tokens, row.UpdatedAtMs);

    public override bool Covers(long period, long nowMs) => true;

    public override long Available(long period, long nowMs, long give) => CounterMath.TokensAvailable(TokensAt(nowMs, give));

    public override long RetryAtMs(long period, long nowMs) => CounterMath.TokenRetryAtMs(TokensAt(nowMs, 0), nowMs, _ratePerMs);

    public override CounterWrite Write(long period, long nowMs, long give, long take, string policy, string partitionBy)
    {
        var tokens = TokensAt(nowMs, give) - take;
        var updated = Math.Max(_rowUpdatedMs, nowMs);
        var full = CounterMath.TokenFullAtMs(tokens, updated, _ratePerMs, _burst);
        return new CounterWrite(0, tokens, updated, DateTimeOffset.FromUnixTimeMilliseconds(full), null, _burst, policy, partitionBy);
    }

    public override void Commit(in CounterWrite write)
    {
        _rowTokens = write.Tokens;
        _rowUpdatedMs = write.UpdatedAtMs;
    }

    /// <summary>The row's level at <paramref name="nowMs"/> with <paramref name="give"/> tokens given back, never above the burst.</summary>
    private double TokensAt(long nowMs, long give) =>
        Math.Min(_burst, CounterMath.TokensAt(_rowTokens, _rowUpdatedMs, nowMs, _ratePerMs, _burst) + give);
}
