using FuncGateway.RateLimiting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace FuncGateway.Core.Tests.RateLimiting;

/// <summary>Expired counter rows are deleted; rows that may still matter are kept.</summary>
public sealed class MaintenanceTests
{
    [Fact]
    public async Task Rows_are_deleted_once_their_window_can_no_longer_matter_plus_the_retention()
    {
        var time = new FakeTimeProvider(TestLimiters.Start);
        var store = new InMemoryRateLimitStore();
        var runtime = TestLimiters.Runtime(store, time, o => o.RetentionSeconds = 30);
        var fixedWindow = TestLimiters.Policy(runtime, new() { Limit = 5, WindowSeconds = 60, Mode = RateLimitMode.Strict }, "fixed");
        var sliding = TestLimiters.Policy(runtime, new() { Algorithm = RateLimitAlgorithm.SlidingWindow, Limit = 5, WindowSeconds = 60, Mode = RateLimitMode.Strict }, "sliding");
        var bucket = TestLimiters.Policy(runtime, new() { Algorithm = RateLimitAlgorithm.TokenBucket, Limit = 60, WindowSeconds = 60, Mode = RateLimitMode.Strict }, "bucket");
        await TestLimiters.AdmitAsync(fixedWindow.GetPartition("k", null), 1);
        await TestLimiters.AdmitAsync(sliding.GetPartition("k", null), 1);
        await TestLimiters.AdmitAsync(bucket.GetPartition("k", null), 30);
        var maintenance = new RateLimitMaintenance(store, runtime.Clock, Microsoft.Extensions.Options.Options.Create(runtime.Options), NullLogger<RateLimitMaintenance>.Instance);

        // 60 s + 30 s retention: the fixed window's row goes, the sliding window's is the next window's "previous",
        // the bucket (full again after 30 s) goes too.
        time.Advance(TimeSpan.FromSeconds(91));
        Assert.Equal(2, await maintenance.RunOnceAsync());
        Assert.StartsWith("sliding-", Assert.Single(store.Rows).Key.PartitionKey, StringComparison.Ordinal);

        time.Advance(TimeSpan.FromSeconds(60));
        Assert.Equal(1, await maintenance.RunOnceAsync());
        Assert.Empty(store.Rows);
    }

    [Fact]
    public async Task Storage_trouble_is_logged_not_thrown()
    {
        var store = new InMemoryRateLimitStore { FailWith = "down" };
        var maintenance = new RateLimitMaintenance(store, new StorageClock(TimeProvider.System, NullLogger.Instance), Microsoft.Extensions.Options.Options.Create(new RateLimitOptions()), NullLogger<RateLimitMaintenance>.Instance);

        Assert.Equal(0, await maintenance.RunOnceAsync());
    }
}
