namespace FuncGateway.RateLimiting;

/// <summary>How a policy counts.</summary>
public enum RateLimitAlgorithm
{
    /// <summary><c>Limit</c> permits per aligned window of <c>WindowSeconds</c>; up to 2 × Limit across a boundary.</summary>
    FixedWindow,

    /// <summary>The weighted two-window counter: the previous window counts in proportion to how much of it still overlaps.</summary>
    SlidingWindow,

    /// <summary>A bucket of <c>Burst</c> tokens refilled continuously at <c>Limit</c> per <c>WindowSeconds</c>.</summary>
    TokenBucket,
}

/// <summary>How exactly the shared counter is kept.</summary>
public enum RateLimitMode
{
    /// <summary><see cref="Strict"/> for policies under 10 permits per second, <see cref="Fast"/> from there up.</summary>
    Auto,

    /// <summary>Every admission is written to the shared row before the request goes on: never more than the limit.</summary>
    Strict,

    /// <summary>Each instance leases slices of the remaining quota and spends them locally.</summary>
    Fast,
}

/// <summary>What a policy does when its counters cannot be reached.</summary>
public enum RateLimitFailurePolicy
{
    /// <summary>Fall back to a per-instance limiter with the limits divided by the instance estimate.</summary>
    FailOpen,

    /// <summary>Answer 503 <c>rate_limit_unavailable</c>.</summary>
    FailClosed,
}

/// <summary>What a partition key part becomes when the request does not carry it (no identity, no header, no claim).</summary>
public enum MissingKeyBehavior
{
    /// <summary>The client's IP address stands in for the missing value (the default: nobody escapes by leaving it out).</summary>
    ClientIp,

    /// <summary>Every request without the value shares one counter.</summary>
    Shared,
}

/// <summary>
/// Settings under <c>FuncGateway:RateLimits</c>. Read by <see cref="RateLimitOptionsReader"/> (so every error is
/// collected with its key) and checked at start-up.
/// </summary>
public sealed class RateLimitOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "FuncGateway:RateLimits";

    /// <summary>How many instances the app is expected to run; fail-open limits are divided by it. Policies may override it.</summary>
    public int InstanceEstimate { get; set; } = 1;

    /// <summary>Most partitions one policy keeps in memory on one instance; idle ones are dropped first.</summary>
    public int MaxPartitionsPerPolicy { get; set; } = 10_000;

    /// <summary>Timeout of one counter read or write.</summary>
    public double OperationTimeoutSeconds { get; set; } = 2;

    /// <summary>After a storage failure, how long requests go straight to the failure policy before storage is tried again.</summary>
    public double OutageBackoffSeconds { get; set; } = 5;

    /// <summary>IPv6 clients are counted per prefix of this length (a client usually owns a whole /64).</summary>
    public int IPv6PrefixLength { get; set; } = 64;

    /// <summary>How often the server's background service deletes expired counter rows (the Functions app uses a timer).</summary>
    public double MaintenanceIntervalSeconds { get; set; } = 300;

    /// <summary>How long after it expires a counter row is kept (slack for clock skew between instances).</summary>
    public double RetentionSeconds { get; set; } = 60;

    /// <summary>
    /// The secret counter rows are keyed with: their PartitionKey holds HMAC-SHA256(secret, partition key) instead of
    /// client addresses or user ids. At least 32 characters; in Azure a Key Vault reference. Unset: derived from the
    /// storage connection string's account key; required when storage is reached with a managed identity.
    /// </summary>
    public string? KeyHashSecret { get; set; }

    /// <summary>The throttle on failed authentication, per client IP.</summary>
    public AuthenticationFailureOptions AuthenticationFailures { get; set; } = new();

    /// <summary>The named policies routes refer to.</summary>
    public Dictionary<string, RateLimitPolicyOptions> Policies { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Problems the reader found (unknown keys, values that are not numbers...), reported by the validator.</summary>
    internal List<string> ReadErrors { get; } = [];
}

/// <summary>One named policy: <c>FuncGateway:RateLimits:Policies:&lt;name&gt;</c>.</summary>
public sealed class RateLimitPolicyOptions
{
    /// <summary>How the policy counts.</summary>
    public RateLimitAlgorithm Algorithm { get; set; } = RateLimitAlgorithm.FixedWindow;

    /// <summary>Permits per window (for a token bucket: tokens added per window). Required.</summary>
    public long Limit { get; set; }

    /// <summary>The window (for a token bucket: the refill period of <see cref="Limit"/> tokens).</summary>
    public double WindowSeconds { get; set; } = 60;

    /// <summary>Token bucket only: the bucket's size, i.e. the largest burst. Default: <see cref="Limit"/>.</summary>
    public long? Burst { get; set; }

    /// <summary>What a counter is per: <c>ClientIp</c>, <c>User</c>, <c>Consumer</c>, <c>Tier</c>, <c>Route</c>, <c>Global</c>, <c>Header:Name</c>, <c>Claim:type</c>, or a comma-separated combination.</summary>
    public string PartitionBy { get; set; } = "ClientIp";

    /// <summary>What stands in for a partition key part the request does not carry.</summary>
    public MissingKeyBehavior MissingKey { get; set; } = MissingKeyBehavior.ClientIp;

    /// <summary>Strict, fast, or chosen by the policy's rate.</summary>
    public RateLimitMode Mode { get; set; } = RateLimitMode.Auto;

    /// <summary>What happens when the counters cannot be reached.</summary>
    public RateLimitFailurePolicy FailurePolicy { get; set; } = RateLimitFailurePolicy.FailOpen;

    /// <summary>Overrides the global instance estimate for this policy's fail-open limits.</summary>
    public int? InstanceEstimate { get; set; }

    /// <summary>Rows each counter is split over (0: chosen from the policy's rate, so that no row needs more than ~500 writes/s).</summary>
    public int Shards { get; set; }

    /// <summary>Fast mode: how many seconds of an instance's observed traffic one slice covers; also how long a leased token stays valid.</summary>
    public double LeaseSeconds { get; set; } = 1;

    /// <summary>Limits by consumer tier (the tier the authentication step established), overriding <see cref="Limit"/> and <see cref="Burst"/>.</summary>
    public Dictionary<string, RateLimitTierOptions> Tiers { get; set; } = new(StringComparer.OrdinalIgnoreCase);
}

/// <summary>A tier's limits within a policy.</summary>
public sealed class RateLimitTierOptions
{
    /// <summary>Permits per window for callers of this tier.</summary>
    public long Limit { get; set; }

    /// <summary>Token bucket only: the bucket size for this tier (default: its <see cref="Limit"/>).</summary>
    public long? Burst { get; set; }
}

/// <summary>The failed-authentication throttle: <c>FuncGateway:RateLimits:AuthenticationFailures</c>.</summary>
public sealed class AuthenticationFailureOptions
{
    /// <summary>Off: failed authentications are not counted.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>A configured policy to count failures with (its partition key is replaced by the client IP). Empty: the limits below.</summary>
    public string? Policy { get; set; }

    /// <summary>Failed attempts one client IP may make per window before it must wait.</summary>
    public long Limit { get; set; } = 10;

    /// <summary>The window of <see cref="Limit"/>.</summary>
    public double WindowSeconds { get; set; } = 60;

    /// <summary>What happens when the counters cannot be reached.</summary>
    public RateLimitFailurePolicy FailurePolicy { get; set; } = RateLimitFailurePolicy.FailOpen;
}
