namespace FuncGateway.RateLimiting;

/// <summary>What a shard said about a request.</summary>
internal enum ShardOutcome
{
    Acquired,
    Rejected,
    Unavailable,

    /// <summary>AttemptAcquire only: the shard cannot decide without a storage round trip.</summary>
    NeedsStorage,
}

/// <summary>
/// A shard's answer; <see cref="RetryAtMs"/> is set for <see cref="ShardOutcome.Rejected"/>. For
/// <see cref="ShardOutcome.Acquired"/>, <see cref="Stamp"/> says where the permits came from, so they can be given
/// back (<see cref="CounterShard.ReleaseAsync"/>): the window, or for a token bucket the expiry of the slice.
/// </summary>
internal readonly record struct ShardResult(ShardOutcome Outcome, long RetryAtMs = 0, long Stamp = 0)
{
    public static ShardResult AcquiredFrom(long stamp) => new(ShardOutcome.Acquired, 0, stamp);

    public static ShardResult Unavailable { get; } = new(ShardOutcome.Unavailable);

    public static ShardResult NeedsStorage { get; } = new(ShardOutcome.NeedsStorage);

    public static ShardResult RejectedUntil(long retryAtMs) => new(ShardOutcome.Rejected, retryAtMs);
}
