using System.Threading.RateLimiting;
using FuncGateway.RateLimiting;
using Microsoft.Extensions.Logging.Abstractions;

namespace FuncGateway.Core.Tests.RateLimiting;

/// <summary>Builds limiters over a test store and clock, one "instance" per runtime.</summary>
internal static class TestLimiters
{
    /// <summary>Midnight UTC: aligned with every window that divides a day.</summary>
    public static readonly DateTimeOffset Start = new(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public static RateLimitOptions Options(Action<RateLimitOptions>? configure = null)
    {
        var options = new RateLimitOptions();
        configure?.Invoke(options);
        return options;
    }

    /// <summary>The counter-key secret every test instance shares (as every instance of one gateway does).</summary>
    public static CounterKeyHasher KeyHasher { get; } = new("test-secret-0123456789-0123456789"u8.ToArray(), CounterKeySource.Setting);

    /// <summary>One gateway instance's limiter machinery.</summary>
    public static RateLimitRuntime Runtime(IRateLimitStore store, TimeProvider time, Action<RateLimitOptions>? configure = null, int seed = 1) =>
        new(store, time, Microsoft.Extensions.Options.Options.Create(Options(configure)), NullLogger<RateLimitRuntime>.Instance, KeyHasher, random: new Random(seed));

    public static PolicyRateLimiter Policy(RateLimitRuntime runtime, RateLimitPolicyOptions options, string name = "test")
    {
        var errors = RateLimitOptionsValidator.Validate(new RateLimitOptions { Policies = { [name] = options } });
        Assert.True(errors.Count == 0, string.Join(Environment.NewLine, errors));
        return new PolicyRateLimiter(RateLimitPolicy.Create(name, options, runtime.Options), runtime);
    }

    public static PartitionLimiter Partition(RateLimitRuntime runtime, RateLimitPolicyOptions options, string key = "ip=192.0.2.1") =>
        Policy(runtime, options).GetPartition(key, null);

    public static TimeSpan RetryAfter(RateLimitLease lease)
    {
        Assert.True(lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter), "The lease carries no RetryAfter.");
        return retryAfter;
    }

    /// <summary>Acquires one permit n times, one after another; returns how many were admitted.</summary>
    public static async Task<int> AdmitAsync(RateLimiter limiter, int n)
    {
        var admitted = 0;
        for (var i = 0; i < n; i++)
        {
            using var lease = await limiter.AcquireAsync(1);
            admitted += lease.IsAcquired ? 1 : 0;
        }

        return admitted;
    }
}
