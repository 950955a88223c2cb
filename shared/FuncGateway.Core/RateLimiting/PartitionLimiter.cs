using FuncGateway.Model;
using System.Threading.RateLimiting;

namespace FuncGateway.RateLimiting;

/// <summary>
/// The limiter of one partition (one client, user, consumer... under one policy and tier), shared by every instance
/// through its counter rows. <see cref="RateLimiter.AttemptAcquire"/> never does I/O: it answers from permits this
/// instance already holds or a window it already knows is spent. <see cref="RateLimiter.AcquireAsync"/> may go to
/// storage, and honours its cancellation token.
/// </summary>
internal sealed class PartitionLimiter : RateLimiter, IThrottledAttempt
{
    private readonly RateLimitRuntime _runtime;
    private readonly RateLimitPolicy _policy;
    private readonly RateLimitLimits _limits;
    private readonly CounterShard[] _shards;
    private readonly LocalFallbackLimiter _fallback;
    private readonly int _firstShard;
    private long _lastUsedMs;
    private long _successful;
    private long _failed;
    private long _attempts;
    private SemaphoreSlim? _attemptGate;

    public PartitionLimiter(RateLimitRuntime runtime, RateLimitPolicy policy, RateLimitLimits limits, string key)
    {
        _runtime = runtime;
        _policy = policy;
        _limits = limits;
        Key = key;
        // The table sees what the counter is per, never whose it is: the key itself only as a keyed hash.
        var display = limits.Tier is null ? policy.Partition.Description : "tier=" + limits.Tier + "&" + policy.Partition.Description;
        if (display.Length > 256)
        {
            display = display[..256];
        }

        var hash = runtime.KeyHasher.Hash(limits.Tier, key);
        _shards = new CounterShard[limits.Shards];
        for (var i = 0; i < _shards.Length; i++)
        {
            var partitionKey = $"{policy.StorageName}-{hash}-{i.ToString("D2", System.Globalization.CultureInfo.InvariantCulture)}";
            _shards[i] = new CounterShard(runtime, policy, limits, partitionKey, display, i);
        }

        _fallback = new LocalFallbackLimiter(limits);
        _firstShard = (int)((uint)runtime.InstanceSeed % (uint)_shards.Length);
        _lastUsedMs = runtime.NowMs;
    }

    /// <summary>The partition key this limiter counts.</summary>
    public string Key { get; }

    public RateLimitPolicy Policy => _policy;

    public RateLimitLimits Limits => _limits;

    public long LastUsedMs => Volatile.Read(ref _lastUsedMs);

    /// <summary>Requests wait on it, a fetch runs or authentication attempts are being checked or wait: it must stay in memory.</summary>
    public bool IsBusy => Volatile.Read(ref _attempts) > 0 || _shards.Any(static s => s.IsBusy);

    /// <summary>
    /// The failed-authentication throttle: takes a place among this client's attempts being checked, at most the
    /// limit's worth (<see cref="RateLimitLimits.Burst"/>) at a time; past that, waits for one to end. Uncontended, no
    /// allocation.
    /// </summary>
    public ValueTask BeginAttemptAsync(CancellationToken cancellationToken)
    {
        var gate = Volatile.Read(ref _attemptGate) ?? CreateAttemptGate();
        Interlocked.Increment(ref _attempts);
        return gate.Wait(0, CancellationToken.None) ? ValueTask.CompletedTask : WaitForAttemptAsync(gate, cancellationToken);
    }

    private async ValueTask WaitForAttemptAsync(SemaphoreSlim gate, CancellationToken cancellationToken)
    {
        try
        {
            await gate.WaitAsync(cancellationToken);
        }
        catch
        {
            Interlocked.Decrement(ref _attempts);
            throw;
        }
    }

    private SemaphoreSlim CreateAttemptGate()
    {
        var places = (int)Math.Clamp(_limits.Burst, 1, int.MaxValue);
        var created = new SemaphoreSlim(places, places);
        return Interlocked.CompareExchange(ref _attemptGate, created, null) ?? created;
    }

    /// <summary>Ends an attempt <see cref="BeginAttemptAsync"/> let through.</summary>
    void IThrottledAttempt.End()
    {
        _attemptGate!.Release();
        Interlocked.Decrement(ref _attempts);
    }

    public override TimeSpan? IdleDuration => IsBusy ? null : TimeSpan.FromMilliseconds(Math.Max(0, _runtime.NowMs - LastUsedMs));

    /// <summary>Whether every shard is known to be spent (no I/O); the earliest retry time when so.</summary>
    public bool IsKnownExhausted(out TimeSpan retryAfter)
    {
        var now = _runtime.NowMs;
        var earliest = long.MaxValue;
        foreach (var shard in _shards)
        {
            if (!shard.IsKnownExhausted(now, out var retryAt))
            {
                retryAfter = TimeSpan.Zero;
                return false;
            }

            earliest = Math.Min(earliest, retryAt);
        }

        retryAfter = TimeSpan.FromMilliseconds(Math.Max(1, earliest - now));
        return true;
    }

    public override RateLimiterStatistics GetStatistics()
    {
        long local = 0;
        long queued = 0;
        foreach (var shard in _shards)
        {
            local += shard.LocalPermits;
            queued += shard.QueuedPermits;
        }

        return new RateLimiterStatistics
        {
            CurrentAvailablePermits = local,
            CurrentQueuedCount = queued,
            TotalSuccessfulLeases = Interlocked.Read(ref _successful),
            TotalFailedLeases = Interlocked.Read(ref _failed),
        };
    }

    protected override RateLimitLease AttemptAcquireCore(int permitCount)
    {
        CheckPermits(permitCount);
        var now = Touch();
        if (permitCount == 0)
        {
            return IsKnownExhausted(out var wait) ? Count(GatewayRateLimitLease.Rejected(wait, ResetAfter(now))) : Acquired(now, null);
        }

        var earliest = long.MaxValue;
        var allExhausted = true;
        for (var i = 0; i < _shards.Length; i++)
        {
            var shard = _shards[(_firstShard + i) % _shards.Length];
            var result = shard.TryAcquireLocal(permitCount, now);
            switch (result.Outcome)
            {
                case ShardOutcome.Acquired:
                    return Acquired(now, new PermitSource(shard, permitCount, result.Stamp));
                case ShardOutcome.Rejected:
                    earliest = Math.Min(earliest, result.RetryAtMs);
                    break;
                default:
                    allExhausted = false;
                    break;
            }
        }

        if (allExhausted)
        {
            return Count(GatewayRateLimitLease.Rejected(TimeSpan.FromMilliseconds(Math.Max(1, earliest - now)), ResetAfter(now)));
        }

        // While storage is known to be down, the failure policy decides without I/O as well.
        return _runtime.Health.IsOpen(now) ? Count(ApplyFailurePolicy(permitCount, now)) : Count(GatewayRateLimitLease.NeedsStorage(ResetAfter(now)));
    }

    protected override async ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
    {
        CheckPermits(permitCount);
        if (permitCount == 0)
        {
            return AttemptAcquireCore(0);
        }

        var now = Touch();
        var earliest = long.MaxValue;
        for (var i = 0; i < _shards.Length; i++)
        {
            var shard = _shards[(_firstShard + i) % _shards.Length];
            var result = await shard.AcquireAsync(permitCount, cancellationToken);
            now = _runtime.NowMs;
            switch (result.Outcome)
            {
                case ShardOutcome.Acquired:
                    return Acquired(now, new PermitSource(shard, permitCount, result.Stamp));
                case ShardOutcome.Unavailable:
                    return Count(ApplyFailurePolicy(permitCount, now));
                case ShardOutcome.Rejected:
                    // Spent: another shard may still have some.
                    earliest = Math.Min(earliest, result.RetryAtMs);
                    break;
            }
        }

        return Count(GatewayRateLimitLease.Rejected(TimeSpan.FromMilliseconds(Math.Max(1, earliest - now)), ResetAfter(now)));
    }

    private GatewayRateLimitLease ApplyFailurePolicy(int permitCount, long now)
    {
        if (_policy.FailurePolicy == RateLimitFailurePolicy.FailClosed)
        {
            return GatewayRateLimitLease.Unavailable(_runtime.Health.Backoff);
        }

        return _fallback.TryAcquire(permitCount, now, out var remaining, out var retryAt)
            ? GatewayRateLimitLease.Acquired(remaining, ResetAfter(now, remaining), degraded: true)
            : GatewayRateLimitLease.Rejected(TimeSpan.FromMilliseconds(Math.Max(1, retryAt - now)), ResetAfter(now), degraded: true);
    }

    /// <summary>What this instance believes is left across the shards; -1 when it knows nothing yet.</summary>
    private long Remaining()
    {
        long total = 0;
        var known = false;
        foreach (var shard in _shards)
        {
            var remaining = shard.KnownRemaining;
            if (remaining >= 0)
            {
                total += remaining;
                known = true;
            }
        }

        return known ? total : -1;
    }

    private GatewayRateLimitLease Acquired(long nowMs, PermitSource? source)
    {
        var remaining = Remaining();
        return Count(GatewayRateLimitLease.Acquired(remaining, ResetAfter(nowMs, remaining), source: source));
    }

    /// <summary>Until the window ends; for a token bucket, until it is full again (a whole window when unknown).</summary>
    private TimeSpan ResetAfter(long nowMs, long remaining = 0)
    {
        if (_policy.Algorithm == RateLimitAlgorithm.TokenBucket)
        {
            var missing = remaining < 0 ? _limits.Limit : Math.Max(0, _limits.Burst - remaining);
            return TimeSpan.FromMilliseconds(Math.Ceiling(missing * (double)_limits.WindowMs / _limits.Limit));
        }

        var window = CounterMath.WindowOf(nowMs, _limits.WindowMs);
        return TimeSpan.FromMilliseconds(CounterMath.WindowStartMs(window + 1, _limits.WindowMs) - nowMs);
    }

    private void CheckPermits(int permitCount)
    {
        // A request for more than the limit could never succeed: say so, as the built-in limiters do.
        ArgumentOutOfRangeException.ThrowIfNegative(permitCount);
        if (permitCount > Math.Min(_limits.Limit, _limits.Burst) / _shards.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(permitCount), permitCount, $"Policy '{_policy.Name}' allows at most {Math.Min(_limits.Limit, _limits.Burst) / _shards.Length} permits per acquisition.");
        }
    }

    private long Touch()
    {
        var now = _runtime.NowMs;
        Volatile.Write(ref _lastUsedMs, now);
        return now;
    }

    private GatewayRateLimitLease Count(GatewayRateLimitLease lease)
    {
        if (lease.IsAcquired)
        {
            Interlocked.Increment(ref _successful);
        }
        else
        {
            Interlocked.Increment(ref _failed);
        }

        return lease;
    }
}
