using FuncGateway.RateLimiting;
using Microsoft.Extensions.Time.Testing;

namespace FuncGateway.Core.Tests.RateLimiting;

/// <summary>Storage trouble: fail-open local limits, fail-closed refusals, the back-off, recovery, and bounded memory.</summary>
public sealed class FailurePolicyTests
{
    private readonly FakeTimeProvider _time = new(TestLimiters.Start);
    private readonly InMemoryRateLimitStore _store = new();

    [Fact]
    public async Task Fail_open_falls_back_to_the_limit_divided_by_the_instance_estimate()
    {
        var runtime = TestLimiters.Runtime(_store, _time, o => o.InstanceEstimate = 4);
        var limiter = TestLimiters.Partition(runtime, new() { Limit = 100, WindowSeconds = 60, Mode = RateLimitMode.Strict });
        _store.FailWith = "storage is down";

        Assert.Equal(25, await TestLimiters.AdmitAsync(limiter, 40));

        using var refused = await limiter.AcquireAsync(1);
        Assert.False(refused.IsAcquired);
        Assert.True(refused.TryGetMetadata(RateLimitMetadata.Degraded, out _));
        Assert.Equal(TimeSpan.FromSeconds(60), TestLimiters.RetryAfter(refused));
    }

    [Fact]
    public async Task A_policy_can_override_the_instance_estimate_for_its_fail_open_limits()
    {
        var runtime = TestLimiters.Runtime(_store, _time, o => o.InstanceEstimate = 4);
        var limiter = TestLimiters.Partition(runtime, new() { Limit = 100, WindowSeconds = 60, Mode = RateLimitMode.Fast, InstanceEstimate = 10 });
        _store.FailWith = "storage is down";

        Assert.Equal(10, await TestLimiters.AdmitAsync(limiter, 40));
    }

    [Fact]
    public async Task Fail_closed_refuses_as_unavailable_with_the_back_off_as_retry_after()
    {
        var runtime = TestLimiters.Runtime(_store, _time, o => o.OutageBackoffSeconds = 7);
        var limiter = TestLimiters.Partition(runtime, new() { Limit = 100, WindowSeconds = 60, FailurePolicy = RateLimitFailurePolicy.FailClosed });
        _store.FailWith = "storage is down";

        using var lease = await limiter.AcquireAsync(1);

        Assert.False(lease.IsAcquired);
        Assert.True(lease.TryGetMetadata(RateLimitMetadata.Unavailable, out _));
        Assert.Equal(TimeSpan.FromSeconds(7), TestLimiters.RetryAfter(lease));
    }

    [Fact]
    public async Task During_the_back_off_requests_skip_storage_and_afterwards_one_tries_it_again()
    {
        var runtime = TestLimiters.Runtime(_store, _time, o => o.OutageBackoffSeconds = 5);
        var limiter = TestLimiters.Partition(runtime, new() { Limit = 1000, WindowSeconds = 60, Mode = RateLimitMode.Strict });
        _store.FailWith = "storage is down";
        await TestLimiters.AdmitAsync(limiter, 1);
        Assert.Equal(1, _store.Attempts);

        Assert.Equal(50, await TestLimiters.AdmitAsync(limiter, 50));
        Assert.Equal(1, _store.Attempts);
        using (var attempt = limiter.AttemptAcquire(1))
        {
            Assert.True(attempt.IsAcquired); // the fail-open limiter answers without I/O while storage is known down
        }

        _time.Advance(TimeSpan.FromSeconds(6));
        _store.FailWith = null;
        Assert.Equal(10, await TestLimiters.AdmitAsync(limiter, 10));
        Assert.Equal(10, Assert.Single(_store.Rows).Value.Count);
    }

    [Fact]
    public async Task After_the_back_off_one_counter_tries_storage_while_the_others_keep_their_failure_policy()
    {
        var runtime = TestLimiters.Runtime(_store, _time, o => o.OutageBackoffSeconds = 5);
        var policy = TestLimiters.Policy(runtime, new() { Limit = 1000, WindowSeconds = 60, Mode = RateLimitMode.Strict });
        _store.FailWith = "storage is down";
        await TestLimiters.AdmitAsync(policy.GetPartition("ip=192.0.2.1", null), 1);
        var before = _store.Attempts;

        // Past the back-off, storage hangs: the first counter's attempt waits on it...
        _time.Advance(TimeSpan.FromSeconds(6));
        _store.Hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var probing = TestLimiters.AdmitAsync(policy.GetPartition("ip=192.0.2.2", null), 1);
        await WaitForAsync(() => _store.Attempts == before + 1);

        // ...and other counters do not each wait on storage too: they answer by the failure policy at once.
        Assert.Equal(5, await TestLimiters.AdmitAsync(policy.GetPartition("ip=192.0.2.3", null), 5));
        Assert.Equal(1, await TestLimiters.AdmitAsync(policy.GetPartition("ip=192.0.2.4", null), 1));
        Assert.Equal(before + 1, _store.Attempts);

        // The attempt succeeds: the circuit closes and every counter uses storage again.
        _store.FailWith = null;
        _store.Hold.SetResult();
        await probing;
        Assert.Equal(1, await TestLimiters.AdmitAsync(policy.GetPartition("ip=192.0.2.5", null), 1));
        Assert.True(_store.Attempts > before + 1);
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        for (var i = 0; i < 200 && !condition(); i++)
        {
            await Task.Delay(10);
        }

        Assert.True(condition());
    }

    [Fact]
    public async Task Random_keys_cannot_grow_memory_without_bound()
    {
        var runtime = TestLimiters.Runtime(_store, _time, o => o.MaxPartitionsPerPolicy = 100);
        var policy = TestLimiters.Policy(runtime, new() { Limit = 5, WindowSeconds = 60, Mode = RateLimitMode.Strict });

        for (var i = 0; i < 5000; i++)
        {
            if (i % 50 == 0)
            {
                _time.Advance(TimeSpan.FromSeconds(2));
            }

            using var lease = await policy.GetPartition("header:x-key=" + Guid.NewGuid(), null).AcquireAsync(1);
            Assert.True(lease.IsAcquired);
        }

        Assert.InRange(policy.PartitionCount, 1, 100);
    }

    [Fact]
    public async Task A_partition_dropped_from_memory_keeps_its_count_in_storage()
    {
        var runtime = TestLimiters.Runtime(_store, _time, o => o.MaxPartitionsPerPolicy = 100);
        var policy = TestLimiters.Policy(runtime, new() { Limit = 3, WindowSeconds = 60, Mode = RateLimitMode.Strict });
        Assert.Equal(3, await TestLimiters.AdmitAsync(policy.GetPartition("ip=192.0.2.1", null), 3));

        _time.Advance(TimeSpan.FromSeconds(2));
        for (var i = 0; i < 300; i++)
        {
            await TestLimiters.AdmitAsync(policy.GetPartition("ip=10.0.0." + i, null), 1);
        }

        Assert.Equal(0, await TestLimiters.AdmitAsync(policy.GetPartition("ip=192.0.2.1", null), 3));
    }
}
