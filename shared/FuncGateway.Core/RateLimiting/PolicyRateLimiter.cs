using FuncGateway.Model;
using System.Collections.Concurrent;
using System.Net;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http;

namespace FuncGateway.RateLimiting;

/// <summary>
/// One named policy as a <see cref="PartitionedRateLimiter{TResource}"/> over requests: resolves the request's
/// partition key (and the caller's tier) and hands it to that partition's <see cref="PartitionLimiter"/>.
/// </summary>
/// <remarks>
/// Partitions live in memory only while useful and never beyond <c>MaxPartitionsPerPolicy</c>: random keys (spoofed
/// headers, a scan of IPv4 space) cannot grow memory without bound. When the cap is passed, idle partitions are
/// dropped first; a dropped partition loses nothing that matters, because its count is in storage.
/// </remarks>
internal sealed class PolicyRateLimiter : PartitionedRateLimiter<HttpContext>
{
    /// <summary>A partition unused for this long is dropped first when the cap is reached.</summary>
    private const long IdleMs = 1000;

    private readonly RateLimitRuntime _runtime;
    private readonly ConcurrentDictionary<string, PartitionLimiter> _partitions = new(StringComparer.Ordinal);
    private readonly int _maxPartitions;
    private int _count;
    private int _trimming;

    public PolicyRateLimiter(RateLimitPolicy policy, RateLimitRuntime runtime)
    {
        Policy = policy;
        _runtime = runtime;
        _maxPartitions = runtime.Options.MaxPartitionsPerPolicy;
    }

    public RateLimitPolicy Policy { get; }

    /// <summary>Partitions held in memory on this instance.</summary>
    public int PartitionCount => Volatile.Read(ref _count);

    /// <summary>The request's partition under this policy.</summary>
    public PartitionLimiter GetPartition(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var feature = context.Features.Get<GatewayRequestFeature>();
        var key = Policy.Partition.Resolve(context, feature, Policy.MissingKey, Policy.IPv6PrefixLength);
        return GetPartition(key, Policy.HasTiers ? feature?.Identity?.Tier : null);
    }

    /// <summary>The partition of a client address (the failed-authentication throttle).</summary>
    public PartitionLimiter GetPartition(IPAddress? client) =>
        GetPartition(PartitionKeySpec.ClientIpKey(client, Policy.IPv6PrefixLength), tier: null);

    /// <summary>The partition of a resolved key and tier.</summary>
    public PartitionLimiter GetPartition(string key, string? tier)
    {
        var limits = Policy.ForTier(tier);
        var mapKey = limits.Tier is null ? key : limits.Tier + "\n" + key;
        if (_partitions.TryGetValue(mapKey, out var existing))
        {
            return existing;
        }

        var created = new PartitionLimiter(_runtime, Policy, limits, key);
        var partition = _partitions.GetOrAdd(mapKey, created);
        if (ReferenceEquals(partition, created) && Interlocked.Increment(ref _count) > _maxPartitions)
        {
            Trim();
        }

        return partition;
    }

    public override RateLimiterStatistics? GetStatistics(HttpContext resource) => GetPartition(resource).GetStatistics();

    protected override RateLimitLease AttemptAcquireCore(HttpContext resource, int permitCount) => GetPartition(resource).AttemptAcquire(permitCount);

    protected override ValueTask<RateLimitLease> AcquireAsyncCore(HttpContext resource, int permitCount, CancellationToken cancellationToken) =>
        GetPartition(resource).AcquireAsync(permitCount, cancellationToken);

    /// <summary>Brings the partitions back to 90 % of the cap: idle ones first, then any that nobody waits on.</summary>
    private void Trim()
    {
        if (Interlocked.Exchange(ref _trimming, 1) == 1)
        {
            return;
        }

        try
        {
            var target = _maxPartitions * 9 / 10;
            var dropped = 0;
            var now = _runtime.NowMs;
            foreach (var pass in new[] { true, false })
            {
                foreach (var (key, partition) in _partitions)
                {
                    if (Volatile.Read(ref _count) <= target)
                    {
                        break;
                    }

                    if ((pass && now - partition.LastUsedMs < IdleMs) || partition.IsBusy)
                    {
                        continue;
                    }

                    if (_partitions.TryRemove(new KeyValuePair<string, PartitionLimiter>(key, partition)))
                    {
                        Interlocked.Decrement(ref _count);
                        dropped++;
                    }
                }
            }

            if (dropped > 0)
            {
                RateLimitLog.PartitionsTrimmed(_runtime.Logger, Policy.Name, _maxPartitions, dropped);
            }
        }
        finally
        {
            Volatile.Write(ref _trimming, 0);
        }
    }
}
