using System.Collections.Frozen;
using System.Globalization;

namespace FuncGateway.RateLimiting;

/// <summary>A configured policy, compiled once at start-up: limits per tier, the partition key, mode and failure policy.</summary>
internal sealed class RateLimitPolicy
{
    /// <summary>Policies at or above this many permits per second run in fast mode when their mode is Auto.</summary>
    public const double AutoFastThresholdPerSecond = 10;

    /// <summary>Writes per second one counter row is planned for; well under Table Storage's ~2,000 entities/s per partition, leaving room for conflicts and reads.</summary>
    public const double WritesPerShardPerSecond = 500;

    /// <summary>The name of the built-in failed-authentication policy.</summary>
    public const string AuthenticationFailuresName = "auth-failures";

    private readonly FrozenDictionary<string, RateLimitLimits> _tiers;

    private RateLimitPolicy(
        string name,
        RateLimitAlgorithm algorithm,
        RateLimitMode mode,
        RateLimitFailurePolicy failurePolicy,
        PartitionKeySpec partition,
        MissingKeyBehavior missingKey,
        int instanceEstimate,
        double leaseSeconds,
        int ipv6PrefixLength,
        Func<string?, long, long, RateLimitLimits> limits,
        long limit,
        long burst,
        IReadOnlyDictionary<string, RateLimitTierOptions> tiers)
    {
        Name = name;
        StorageName = name.ToLowerInvariant();
        Algorithm = algorithm;
        Mode = mode;
        FailurePolicy = failurePolicy;
        Partition = partition;
        MissingKey = missingKey;
        InstanceEstimate = instanceEstimate;
        LeaseSeconds = leaseSeconds;
        IPv6PrefixLength = ipv6PrefixLength;
        Limits = limits(null, limit, burst);
        _tiers = tiers.ToFrozenDictionary(
            static t => t.Key,
            t => limits(t.Key, t.Value.Limit, t.Value.Burst ?? t.Value.Limit),
            StringComparer.OrdinalIgnoreCase);
    }

    public string Name { get; }

    /// <summary>The name in counter rows: lower case, because configuration keys are case-insensitive.</summary>
    public string StorageName { get; }

    public RateLimitAlgorithm Algorithm { get; }

    /// <summary>Strict or Fast (Auto is resolved at start-up).</summary>
    public RateLimitMode Mode { get; }

    public RateLimitFailurePolicy FailurePolicy { get; }

    public PartitionKeySpec Partition { get; }

    public MissingKeyBehavior MissingKey { get; }

    public int InstanceEstimate { get; }

    public double LeaseSeconds { get; }

    public int IPv6PrefixLength { get; }

    /// <summary>Limits for callers without a configured tier.</summary>
    public RateLimitLimits Limits { get; }

    public bool HasTiers => _tiers.Count > 0;

    /// <summary>The limits for a caller's tier; the policy's own for no tier or an unknown one.</summary>
    public RateLimitLimits ForTier(string? tier) =>
        tier is not null && _tiers.TryGetValue(tier, out var limits) ? limits : Limits;

    public static RateLimitPolicy Create(string name, RateLimitPolicyOptions options, RateLimitOptions global)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(global);
        if (!PartitionKeySpec.TryParse(options.PartitionBy, out var partition, out var error))
        {
            throw new InvalidOperationException($"Policy '{name}': PartitionBy {error}");
        }

        var estimate = options.InstanceEstimate ?? global.InstanceEstimate;
        var ratePerSecond = options.Limit / options.WindowSeconds;
        var mode = options.Mode switch
        {
            RateLimitMode.Auto => ratePerSecond >= AutoFastThresholdPerSecond ? RateLimitMode.Fast : RateLimitMode.Strict,
            var explicitMode => explicitMode,
        };
        return new RateLimitPolicy(
            name, options.Algorithm, mode, options.FailurePolicy, partition, options.MissingKey, estimate, options.LeaseSeconds, global.IPv6PrefixLength,
            (tier, limit, burst) => new RateLimitLimits(name, tier, options.Algorithm, limit, options.Algorithm == RateLimitAlgorithm.TokenBucket ? burst : limit,
                options.WindowSeconds, ShardCount(options.Shards, mode, limit, options.Algorithm == RateLimitAlgorithm.TokenBucket ? burst : limit, options.WindowSeconds, estimate, options.LeaseSeconds), estimate),
            options.Limit,
            options.Burst ?? options.Limit,
            options.Tiers);
    }

    /// <summary>The failed-authentication throttle's policy: a named one re-keyed by client IP, or the built-in strict fixed window.</summary>
    public static RateLimitPolicy ForAuthenticationFailures(RateLimitOptions global)
    {
        ArgumentNullException.ThrowIfNull(global);
        var failures = global.AuthenticationFailures;
        RateLimitPolicyOptions options;
        string name;
        if (failures.Policy is { } named && global.Policies.TryGetValue(named, out var configured))
        {
            name = named;
            options = new RateLimitPolicyOptions
            {
                Algorithm = configured.Algorithm,
                Limit = configured.Limit,
                WindowSeconds = configured.WindowSeconds,
                Burst = configured.Burst,
                Mode = configured.Mode,
                FailurePolicy = configured.FailurePolicy,
                InstanceEstimate = configured.InstanceEstimate,
                Shards = configured.Shards,
                LeaseSeconds = configured.LeaseSeconds,
            };
        }
        else
        {
            name = AuthenticationFailuresName;
            options = new RateLimitPolicyOptions
            {
                Algorithm = RateLimitAlgorithm.FixedWindow,
                Limit = failures.Limit,
                WindowSeconds = failures.WindowSeconds,
                Mode = RateLimitMode.Strict,
                FailurePolicy = failures.FailurePolicy,
            };
        }

        options.PartitionBy = "ClientIp";
        return Create(name, options, global);
    }

    private static int ShardCount(int configured, RateLimitMode mode, long limit, long burst, double windowSeconds, int estimate, double leaseSeconds)
    {
        if (configured > 0)
        {
            // A tier with a smaller limit than the shard count still gives every shard at least one permit.
            return (int)Math.Min(configured, Math.Min(limit, burst));
        }

        // A row is written at most once per admitted request in strict mode (fewer when requests are batched), and
        // about twice per lease period per instance in fast mode; rejections, once a window is known to be spent,
        // cost nothing. So the policy's own rate bounds the writes to one counter, and decides its shards.
        var rate = limit / windowSeconds;
        var writes = mode == RateLimitMode.Strict ? rate : Math.Min(rate, estimate * 2 / leaseSeconds);
        var shards = (int)Math.Ceiling(writes / WritesPerShardPerSecond);
        return (int)Math.Clamp(shards, 1, Math.Min(RateLimitOptionsValidator.MaxShards, Math.Min(limit, burst)));
    }
}

/// <summary>The numbers of one policy for one tier, with the per-shard and fail-open shares worked out.</summary>
internal sealed class RateLimitLimits
{
    public RateLimitLimits(string policyName, string? tier, RateLimitAlgorithm algorithm, long limit, long burst, double windowSeconds, int shards, int instanceEstimate)
    {
        Tier = tier;
        Algorithm = algorithm;
        Limit = limit;
        Burst = burst;
        WindowSeconds = windowSeconds;
        WindowMs = Math.Max(1, (long)Math.Round(windowSeconds * 1000));
        Shards = shards;
        FallbackLimit = Math.Max(1, limit / instanceEstimate);
        FallbackBurst = Math.Max(1, burst / instanceEstimate);
        var window = ((long)Math.Ceiling(windowSeconds)).ToString(CultureInfo.InvariantCulture);
        PolicyHeaderItem = $"\"{policyName}\";q={limit.ToString(CultureInfo.InvariantCulture)};w={window}";
    }

    /// <summary>The tier these limits are for; null for the policy's own.</summary>
    public string? Tier { get; }

    public RateLimitAlgorithm Algorithm { get; }

    /// <summary>Permits per window; for a token bucket, tokens added per window.</summary>
    public long Limit { get; }

    /// <summary>Token bucket size (equal to <see cref="Limit"/> for window algorithms).</summary>
    public long Burst { get; }

    public double WindowSeconds { get; }

    public long WindowMs { get; }

    /// <summary>How many rows each counter is split over.</summary>
    public int Shards { get; }

    /// <summary>The fail-open limit: <see cref="Limit"/> divided by the instance estimate (at least 1).</summary>
    public long FallbackLimit { get; }

    /// <summary>The fail-open bucket size.</summary>
    public long FallbackBurst { get; }

    /// <summary>This policy's item of the <c>RateLimit-Policy</c> response header (IETF httpapi draft): <c>"name";q=100;w=60</c>.</summary>
    public string PolicyHeaderItem { get; }

    /// <summary>Shard <paramref name="shard"/>'s share of <see cref="Limit"/>; the shares add up to it exactly.</summary>
    public long ShardLimit(int shard) => Share(Limit, shard);

    /// <summary>Shard <paramref name="shard"/>'s share of <see cref="Burst"/>.</summary>
    public long ShardBurst(int shard) => Share(Burst, shard);

    private long Share(long total, int shard) => (total / Shards) + (shard < total % Shards ? 1 : 0);
}
