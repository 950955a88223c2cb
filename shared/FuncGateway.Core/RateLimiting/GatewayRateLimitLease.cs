using System.Threading.RateLimiting;

namespace FuncGateway.RateLimiting;

/// <summary>Metadata the gateway's leases carry besides <see cref="MetadataName.RetryAfter"/>.</summary>
public static class RateLimitMetadata
{
    /// <summary>Permits the caller has left, as far as this instance knows (an estimate in fast mode).</summary>
    public static MetadataName<long> Remaining { get; } = MetadataName.Create<long>("FUNCGATEWAY_REMAINING");

    /// <summary>Time until the quota resets: the window's end, or a token bucket refilled to full.</summary>
    public static MetadataName<TimeSpan> Reset { get; } = MetadataName.Create<TimeSpan>("FUNCGATEWAY_RESET");

    /// <summary>Present (true) on a lease refused because the counters could not be reached and the policy fails closed.</summary>
    public static MetadataName<bool> Unavailable { get; } = MetadataName.Create<bool>("FUNCGATEWAY_UNAVAILABLE");

    /// <summary>Present (true) when the fail-open local limiter decided, because the counters could not be reached.</summary>
    public static MetadataName<bool> Degraded { get; } = MetadataName.Create<bool>("FUNCGATEWAY_DEGRADED");
}

/// <summary>Where a lease's permits came from: the counter shard, how many, and their window or slice.</summary>
internal sealed record PermitSource(CounterShard Shard, long Permits, long Stamp);

/// <summary>
/// A lease of the gateway's limiters. Disposing it releases nothing: permits of a rate limit are spent, not borrowed.
/// A request that is refused after all (by another policy of its route) gives them back with <see cref="ReturnAsync"/>.
/// </summary>
internal sealed class GatewayRateLimitLease : RateLimitLease
{
    private readonly TimeSpan? _retryAfter;
    private readonly long _remaining;
    private readonly TimeSpan _reset;
    private readonly bool _unavailable;
    private readonly bool _degraded;
    private readonly string? _reason;
    private PermitSource? _source;

    private GatewayRateLimitLease(bool acquired, TimeSpan? retryAfter, long remaining, TimeSpan reset, bool unavailable, bool degraded, string? reason, PermitSource? source = null)
    {
        _source = source;
        IsAcquired = acquired;
        _retryAfter = retryAfter;
        _remaining = remaining;
        _reset = reset;
        _unavailable = unavailable;
        _degraded = degraded;
        _reason = reason;
    }

    public override bool IsAcquired { get; }

    public bool IsUnavailable => _unavailable;

    public long Remaining => _remaining;

    public TimeSpan Reset => _reset;

    public TimeSpan? RetryAfter => _retryAfter;

    public override IEnumerable<string> MetadataNames
    {
        get
        {
            if (_retryAfter is not null)
            {
                yield return MetadataName.RetryAfter.Name;
            }

            if (_reason is not null)
            {
                yield return MetadataName.ReasonPhrase.Name;
            }

            if (_remaining >= 0)
            {
                yield return RateLimitMetadata.Remaining.Name;
            }

            yield return RateLimitMetadata.Reset.Name;
            if (_unavailable)
            {
                yield return RateLimitMetadata.Unavailable.Name;
            }

            if (_degraded)
            {
                yield return RateLimitMetadata.Degraded.Name;
            }
        }
    }

    public static GatewayRateLimitLease Acquired(long remaining, TimeSpan reset, bool degraded = false, PermitSource? source = null) =>
        new(true, null, remaining, reset, unavailable: false, degraded, reason: null, source);

    /// <summary>
    /// Gives the permits back to the counter they were taken from, once (see <see cref="CounterShard.ReleaseAsync"/>).
    /// Nothing to give back for a lease of the fail-open local limiter, or of no permits.
    /// </summary>
    public ValueTask ReturnAsync() =>
        Interlocked.Exchange(ref _source, null) is { } source ? source.Shard.ReleaseAsync(source.Permits, source.Stamp) : ValueTask.CompletedTask;

    public static GatewayRateLimitLease Rejected(TimeSpan retryAfter, TimeSpan reset, bool degraded = false) =>
        new(false, retryAfter, 0, reset, unavailable: false, degraded, reason: "Rate limit exceeded.");

    public static GatewayRateLimitLease Unavailable(TimeSpan retryAfter) =>
        new(false, retryAfter, -1, retryAfter, unavailable: true, degraded: false, reason: "Rate-limit storage unavailable.");

    /// <summary>AttemptAcquire's answer when only a storage round trip could tell.</summary>
    public static GatewayRateLimitLease NeedsStorage(TimeSpan reset) =>
        new(false, null, -1, reset, unavailable: false, degraded: false, reason: "Deciding needs a storage round trip; use AcquireAsync.");

    public override bool TryGetMetadata(string metadataName, out object? metadata)
    {
        metadata = null;
        if (metadataName == MetadataName.RetryAfter.Name && _retryAfter is { } retry)
        {
            metadata = retry;
        }
        else if (metadataName == MetadataName.ReasonPhrase.Name && _reason is not null)
        {
            metadata = _reason;
        }
        else if (metadataName == RateLimitMetadata.Remaining.Name && _remaining >= 0)
        {
            metadata = _remaining;
        }
        else if (metadataName == RateLimitMetadata.Reset.Name)
        {
            metadata = _reset;
        }
        else if (metadataName == RateLimitMetadata.Unavailable.Name && _unavailable)
        {
            metadata = true;
        }
        else if (metadataName == RateLimitMetadata.Degraded.Name && _degraded)
        {
            metadata = true;
        }

        return metadata is not null;
    }
}
