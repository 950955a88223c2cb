using FuncGateway.RateLimiting;
using Microsoft.Extensions.Time.Testing;

namespace FuncGateway.Core.Tests.RateLimiting;

/// <summary>The three algorithms against one shared row, driven by a fake clock: limits, window boundaries, refill, Retry-After.</summary>
public sealed class AlgorithmTests
{
    private readonly FakeTimeProvider _time = new(TestLimiters.Start);
    private readonly InMemoryRateLimitStore _store = new();

    [Fact]
    public async Task Fixed_window_admits_exactly_the_limit_then_says_when_the_window_ends()
    {
        var limiter = TestLimiters.Partition(TestLimiters.Runtime(_store, _time), new() { Limit = 5, WindowSeconds = 60, Mode = RateLimitMode.Strict });
        _time.Advance(TimeSpan.FromSeconds(20));

        Assert.Equal(5, await TestLimiters.AdmitAsync(limiter, 8));

        using var refused = await limiter.AcquireAsync(1);
        Assert.False(refused.IsAcquired);
        Assert.Equal(TimeSpan.FromSeconds(40), TestLimiters.RetryAfter(refused));
    }

    [Fact]
    public async Task Fixed_window_starts_afresh_at_the_boundary_which_allows_twice_the_limit_across_it()
    {
        var limiter = TestLimiters.Partition(TestLimiters.Runtime(_store, _time), new() { Limit = 5, WindowSeconds = 60, Mode = RateLimitMode.Strict });
        _time.Advance(TimeSpan.FromSeconds(59.9));
        Assert.Equal(5, await TestLimiters.AdmitAsync(limiter, 10));

        _time.Advance(TimeSpan.FromSeconds(0.2));

        // The documented weakness of fixed windows: 2 × Limit within 0.2 s around a boundary.
        Assert.Equal(5, await TestLimiters.AdmitAsync(limiter, 10));
    }

    [Fact]
    public async Task Sliding_window_discounts_the_previous_window_by_how_much_of_it_still_overlaps()
    {
        var limiter = TestLimiters.Partition(TestLimiters.Runtime(_store, _time), new() { Algorithm = RateLimitAlgorithm.SlidingWindow, Limit = 10, WindowSeconds = 60, Mode = RateLimitMode.Strict });
        _time.Advance(TimeSpan.FromSeconds(59));
        Assert.Equal(10, await TestLimiters.AdmitAsync(limiter, 12));

        // 15 s into the next window, 45 s of the previous one still overlap: 10 × 0.75 = 7.5 count, 2 are left.
        _time.Advance(TimeSpan.FromSeconds(16));
        Assert.Equal(2, await TestLimiters.AdmitAsync(limiter, 5));

        // The next permit is free once 10 × (1 − f) + 2 ≤ 9, i.e. 18 s into the window.
        using var refused = await limiter.AcquireAsync(1);
        Assert.Equal(TimeSpan.FromSeconds(3), TestLimiters.RetryAfter(refused));
        _time.Advance(TimeSpan.FromSeconds(3));
        Assert.Equal(1, await TestLimiters.AdmitAsync(limiter, 3));
    }

    [Fact]
    public async Task Sliding_window_never_admits_more_than_limit_times_one_plus_d_over_w_in_any_interval_d()
    {
        // Bursty arrivals at random instants over ten windows; every admitted instant is recorded.
        const int limit = 20;
        const double windowSeconds = 10;
        var limiter = TestLimiters.Partition(TestLimiters.Runtime(_store, _time), new() { Algorithm = RateLimitAlgorithm.SlidingWindow, Limit = limit, WindowSeconds = windowSeconds, Mode = RateLimitMode.Strict });
        var random = new Random(7);
        var admitted = new List<double>();
        var now = 0.0;
        while (now < windowSeconds * 10)
        {
            var step = random.NextDouble() < 0.1 ? random.NextDouble() * 3 : random.NextDouble() * 0.05;
            now += step;
            _time.Advance(TimeSpan.FromSeconds(step));
            using var lease = await limiter.AcquireAsync(1);
            if (lease.IsAcquired)
            {
                admitted.Add(now);
            }
        }

        Assert.True(admitted.Count > limit * 5, $"Only {admitted.Count} admitted: the test did not exercise the limit.");
        foreach (var d in new[] { 0.1, 1, 2.5, 5, 10 })
        {
            var bound = limit * (1 + (d / windowSeconds));
            var worst = 0;
            for (int i = 0, j = 0; i < admitted.Count; i++)
            {
                while (admitted[i] - admitted[j] >= d)
                {
                    j++;
                }

                worst = Math.Max(worst, i - j + 1);
            }

            Assert.True(worst <= bound + 1e-9, $"{worst} admitted within {d} s; the documented bound is {bound}.");
        }
    }

    [Fact]
    public async Task Token_bucket_allows_its_burst_then_refills_at_its_rate()
    {
        // 10 tokens per 10 s (1/s), bucket of 5.
        var limiter = TestLimiters.Partition(TestLimiters.Runtime(_store, _time), new() { Algorithm = RateLimitAlgorithm.TokenBucket, Limit = 10, WindowSeconds = 10, Burst = 5, Mode = RateLimitMode.Strict });

        Assert.Equal(5, await TestLimiters.AdmitAsync(limiter, 8));
        using (var refused = await limiter.AcquireAsync(1))
        {
            Assert.Equal(TimeSpan.FromSeconds(1), TestLimiters.RetryAfter(refused));
        }

        _time.Advance(TimeSpan.FromSeconds(3));
        Assert.Equal(3, await TestLimiters.AdmitAsync(limiter, 5));

        _time.Advance(TimeSpan.FromSeconds(0.5));
        Assert.Equal(0, await TestLimiters.AdmitAsync(limiter, 1));
        _time.Advance(TimeSpan.FromSeconds(0.5));
        Assert.Equal(1, await TestLimiters.AdmitAsync(limiter, 1));

        // A long pause fills the bucket only up to its size.
        _time.Advance(TimeSpan.FromMinutes(10));
        Assert.Equal(5, await TestLimiters.AdmitAsync(limiter, 8));
    }

    [Fact]
    public async Task Token_bucket_state_lives_in_the_row_so_another_instance_sees_the_spent_tokens()
    {
        var options = new RateLimitPolicyOptions { Algorithm = RateLimitAlgorithm.TokenBucket, Limit = 60, WindowSeconds = 60, Burst = 4, Mode = RateLimitMode.Strict };
        var first = TestLimiters.Partition(TestLimiters.Runtime(_store, _time, seed: 1), options);
        var second = TestLimiters.Partition(TestLimiters.Runtime(_store, _time, seed: 2), options);

        Assert.Equal(3, await TestLimiters.AdmitAsync(first, 3));
        Assert.Equal(1, await TestLimiters.AdmitAsync(second, 3));
        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(2, await TestLimiters.AdmitAsync(first, 3));
    }

    [Fact]
    public async Task Tiers_get_their_own_limits_and_counters()
    {
        var runtime = TestLimiters.Runtime(_store, _time);
        var policy = TestLimiters.Policy(runtime, new()
        {
            Limit = 2,
            WindowSeconds = 60,
            Mode = RateLimitMode.Strict,
            Tiers = { ["gold"] = new RateLimitTierOptions { Limit = 5 } },
        });

        Assert.Equal(5, await TestLimiters.AdmitAsync(policy.GetPartition("consumer=a", "GOLD"), 9));
        Assert.Equal(2, await TestLimiters.AdmitAsync(policy.GetPartition("consumer=a", null), 9));
        Assert.Equal(2, await TestLimiters.AdmitAsync(policy.GetPartition("consumer=b", "unknown-tier"), 9));
        Assert.Equal("\"test\";q=5;w=60", policy.Policy.ForTier("gold").PolicyHeaderItem);
    }

    [Fact]
    public async Task A_sharded_counter_admits_exactly_its_limit_across_the_shards()
    {
        var runtime = TestLimiters.Runtime(_store, _time);
        var limiter = TestLimiters.Partition(runtime, new() { Limit = 10, WindowSeconds = 60, Mode = RateLimitMode.Strict, Shards = 3 });

        Assert.Equal(10, await TestLimiters.AdmitAsync(limiter, 15));
        Assert.Equal(3, _store.Rows.Count);
        Assert.Equal([4L, 3L, 3L], _store.Rows.OrderBy(r => r.Key.PartitionKey, StringComparer.Ordinal).Select(r => r.Value.Count));
    }

    [Fact]
    public void Shards_are_chosen_from_the_rate_a_counter_can_be_written_at()
    {
        var global = new RateLimitOptions();
        Assert.Equal(1, RateLimitPolicy.Create("a", new() { Limit = 100, WindowSeconds = 1, Mode = RateLimitMode.Strict }, global).Limits.Shards);
        Assert.Equal(4, RateLimitPolicy.Create("b", new() { Limit = 2000, WindowSeconds = 1, Mode = RateLimitMode.Strict }, global).Limits.Shards);
        Assert.Equal(1, RateLimitPolicy.Create("c", new() { Limit = 1_000_000, WindowSeconds = 1, Mode = RateLimitMode.Fast }, global).Limits.Shards);
        Assert.Equal(2, RateLimitPolicy.Create("d", new() { Limit = 1_000_000, WindowSeconds = 1, Mode = RateLimitMode.Fast, InstanceEstimate = 400 }, global).Limits.Shards);
        Assert.Equal(7, RateLimitPolicy.Create("e", new() { Limit = 100, WindowSeconds = 1, Shards = 7 }, global).Limits.Shards);
        var tiered = RateLimitPolicy.Create("f", new() { Limit = 100, Shards = 7, Tiers = { ["free"] = new() { Limit = 3 } } }, global);
        Assert.Equal(3, tiered.ForTier("free").Shards);
    }

    [Fact]
    public void Auto_mode_is_strict_below_ten_permits_a_second_and_fast_from_there()
    {
        var global = new RateLimitOptions();
        Assert.Equal(RateLimitMode.Strict, RateLimitPolicy.Create("a", new() { Limit = 100, WindowSeconds = 60 }, global).Mode);
        Assert.Equal(RateLimitMode.Fast, RateLimitPolicy.Create("b", new() { Limit = 600, WindowSeconds = 60 }, global).Mode);
        Assert.Equal(RateLimitMode.Strict, RateLimitPolicy.Create("c", new() { Limit = 6000, WindowSeconds = 60, Mode = RateLimitMode.Strict }, global).Mode);
    }

    [Fact]
    public async Task Statistics_count_leases_and_what_this_instance_holds()
    {
        var limiter = TestLimiters.Partition(TestLimiters.Runtime(_store, _time), new() { Limit = 3, WindowSeconds = 60, Mode = RateLimitMode.Strict });

        await TestLimiters.AdmitAsync(limiter, 5);

        var statistics = limiter.GetStatistics();
        Assert.Equal(3, statistics.TotalSuccessfulLeases);
        Assert.Equal(2, statistics.TotalFailedLeases);
        Assert.Equal(0, statistics.CurrentQueuedCount);
        Assert.Equal(0, statistics.CurrentAvailablePermits);
    }

    [Fact]
    public async Task Leases_report_what_is_left_and_when_it_resets()
    {
        var limiter = TestLimiters.Partition(TestLimiters.Runtime(_store, _time), new() { Limit = 10, WindowSeconds = 60, Mode = RateLimitMode.Strict });
        _time.Advance(TimeSpan.FromSeconds(45));
        await TestLimiters.AdmitAsync(limiter, 3);

        using var lease = await limiter.AcquireAsync(1);

        Assert.True(lease.TryGetMetadata(RateLimitMetadata.Remaining, out var remaining));
        Assert.Equal(6, remaining);
        Assert.True(lease.TryGetMetadata(RateLimitMetadata.Reset, out var reset));
        Assert.Equal(TimeSpan.FromSeconds(15), reset);
        Assert.Contains(RateLimitMetadata.Remaining.Name, lease.MetadataNames);
    }

    [Fact]
    public async Task Asking_for_more_permits_than_the_limit_is_an_argument_error()
    {
        var limiter = TestLimiters.Partition(TestLimiters.Runtime(_store, _time), new() { Limit = 3, WindowSeconds = 60 });

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await limiter.AcquireAsync(4));
        Assert.Throws<ArgumentOutOfRangeException>(() => limiter.AttemptAcquire(4));
    }
}
