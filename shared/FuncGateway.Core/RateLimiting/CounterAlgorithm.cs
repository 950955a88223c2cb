namespace FuncGateway.RateLimiting;

/// <summary>
/// One algorithm's arithmetic for one counter shard: what its row looks like, what it has left, when it rolls over,
/// when to retry, and how permits this instance holds lapse. <see cref="CounterShard"/> owns everything else (the
/// lock, batching, the storage round trips, strict and fast mode) and asks its algorithm whenever a decision depends
/// on which algorithm counts.
/// </summary>
/// <remarks>
/// <para>
/// A <em>period</em> is what the local permits and the row belong to: the window (its number since the Unix epoch)
/// for the window algorithms; a token bucket has one row for ever, so its period never changes. Times are Unix
/// milliseconds on the storage clock.
/// </para>
/// <para>
/// The local-permit members are called under the shard's lock; the row members only by the shard's one running fetch
/// loop. The two sides share no state.
/// </para>
/// </remarks>
internal abstract class CounterAlgorithm
{
    /// <summary>The algorithm of <paramref name="policy"/> for shard <paramref name="shard"/> of a counter with <paramref name="limits"/>.</summary>
    public static CounterAlgorithm Create(RateLimitPolicy policy, RateLimitLimits limits, int shard) => policy.Algorithm switch
    {
        RateLimitAlgorithm.TokenBucket => new TokenBucketAlgorithm(limits, shard, (long)(policy.LeaseSeconds * 1000)),
        RateLimitAlgorithm.SlidingWindow => new SlidingWindowAlgorithm(limits, shard),
        _ => new FixedWindowAlgorithm(limits, shard),
    };

    // Local permits: under the shard's lock.

    /// <summary>The period the local permits belong to, as of the last <see cref="Roll"/>.</summary>
    public abstract long Period { get; }

    /// <summary>Moves to the period of <paramref name="nowMs"/>; true when that is a new one: every local permit lapses, and what was known of the row.</summary>
    public abstract bool Roll(long nowMs);

    /// <summary>Forgets local permits whose lease has expired (token bucket); returns how many.</summary>
    public abstract long DropExpired(long nowMs);

    /// <summary>Takes <paramref name="permits"/> from the local ones; returns their stamp, which says where they came from.</summary>
    public abstract long Spend(long permits);

    /// <summary>
    /// Takes back permits stamped <paramref name="stamp"/>; false when they have lapsed and are dropped instead.
    /// <paramref name="intoSlice"/>: they go back into the slice they came from (fast mode), rather than on their way
    /// back to the row (strict mode).
    /// </summary>
    public abstract bool TryReturn(long permits, long stamp, long nowMs, bool intoSlice);

    /// <summary>Holds <paramref name="permits"/> just taken from the row, from <paramref name="nowMs"/>.</summary>
    public abstract void Hold(long permits, long nowMs);

    /// <summary>Every local permit leaves (strict mode gives them back to the row).</summary>
    public abstract void Clear();

    // The row: only the shard's running fetch loop.

    /// <summary>The RowKey of the row permits of <paramref name="period"/> are counted in.</summary>
    public abstract string RowKey(long period);

    /// <summary>Whether the row of <paramref name="period"/> must be read before deciding, even if the last read or write of the shard still stands.</summary>
    public abstract bool MustRead(long period);

    /// <summary>Learns the row of <paramref name="period"/> as read at <paramref name="nowMs"/> (null: there is none yet).</summary>
    public abstract void Load(CounterRow? row, long period, long nowMs);

    /// <summary>Another row the decision in <paramref name="period"/> weighs in that has not been read yet (the sliding window's previous window).</summary>
    public virtual bool NeedsPriorRow(long period, out long priorPeriod)
    {
        priorPeriod = 0;
        return false;
    }

    /// <summary>Learns the row <see cref="NeedsPriorRow"/> asked for.</summary>
    public virtual void LoadPriorRow(CounterRow? row, long priorPeriod)
    {
    }

    /// <summary>Whether <paramref name="nowMs"/> still falls in <paramref name="period"/>: permits are only taken for the period they are spent in.</summary>
    public abstract bool Covers(long period, long nowMs);

    /// <summary>Permits the row has at <paramref name="nowMs"/>, with <paramref name="give"/> permits given back to it.</summary>
    public abstract long Available(long period, long nowMs, long give);

    /// <summary>When the row, as last read or written, has a permit again: the lease's Retry-After.</summary>
    public abstract long RetryAtMs(long period, long nowMs);

    /// <summary>The row after <paramref name="give"/> permits go back to it and <paramref name="take"/> are taken from it.</summary>
    public abstract CounterWrite Write(long period, long nowMs, long give, long take, string policy, string partitionBy);

    /// <summary>Learns that <paramref name="write"/> is now the row.</summary>
    public abstract void Commit(in CounterWrite write);
}
