using System.Threading.RateLimiting;
using FuncGateway.RateLimiting;
using Microsoft.Extensions.Time.Testing;

namespace FuncGateway.Core.Tests.RateLimiting;

/// <summary>
/// Several "instances" (each its own runtime, as separate processes have) sharing one instrumented store: strict
/// exactness, fast mode's bounds and cost, the contract of AttemptAcquire and AcquireAsync.
/// </summary>
public sealed class DistributedLimiterTests
{
    private readonly InMemoryRateLimitStore _store = new();

    [Fact]
    public async Task Strict_mode_admits_exactly_the_limit_of_400_concurrent_requests_across_three_instances()
    {
        var options = new RateLimitPolicyOptions { Limit = 100, WindowSeconds = 3600, Mode = RateLimitMode.Strict };
        var instances = Enumerable.Range(1, 3).Select(i => TestLimiters.Partition(TestLimiters.Runtime(_store, TimeProvider.System, seed: i), options)).ToArray();

        // Hold storage so that all 400 requests are in flight before the first write lands.
        _store.Hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var requests = Enumerable.Range(0, 400).Select(i => instances[i % 3].AcquireAsync(1).AsTask()).ToArray();
        _store.Hold.SetResult();
        var leases = await Task.WhenAll(requests);

        Assert.Equal(100, leases.Count(l => l.IsAcquired));
        Assert.Equal(100, Assert.Single(_store.Rows).Value.Count);

        // Refusals say when to come back.
        Assert.All(leases.Where(l => !l.IsAcquired), l => Assert.True(TestLimiters.RetryAfter(l) > TimeSpan.Zero));
    }

    [Fact]
    public async Task Requests_of_one_instance_share_a_write_so_contention_is_only_between_instances()
    {
        var limiter = TestLimiters.Partition(TestLimiters.Runtime(_store, TimeProvider.System), new() { Limit = 1000, WindowSeconds = 3600, Mode = RateLimitMode.Strict });
        _store.Hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var first = limiter.AcquireAsync(1).AsTask();
        var queued = Enumerable.Range(0, 99).Select(_ => limiter.AcquireAsync(1).AsTask()).ToArray();
        _store.Hold.SetResult();
        await first;
        await Task.WhenAll(queued);

        // The first request's read + write, then one write for the 99 that queued behind it.
        Assert.True(_store.Operations <= 3, $"{_store.Operations} operations for 100 requests.");
        Assert.Equal(100, Assert.Single(_store.Rows).Value.Count);
    }

    [Fact]
    public async Task Conflicting_writes_are_read_again_and_retried_and_count_once()
    {
        var limiter = TestLimiters.Partition(TestLimiters.Runtime(_store, TimeProvider.System), new() { Limit = 10, WindowSeconds = 3600, Mode = RateLimitMode.Strict });
        _store.ConflictsToInject = 3;

        using var lease = await limiter.AcquireAsync(1);

        Assert.True(lease.IsAcquired);
        Assert.Equal(3, _store.Conflicts);
        Assert.Equal(1, Assert.Single(_store.Rows).Value.Count);
    }

    [Theory]
    [InlineData(RateLimitFailurePolicy.FailClosed)]
    [InlineData(RateLimitFailurePolicy.FailOpen)]
    public async Task Endless_conflicts_end_after_a_bounded_number_of_attempts_in_the_failure_policy(RateLimitFailurePolicy failurePolicy)
    {
        var limiter = TestLimiters.Partition(TestLimiters.Runtime(_store, TimeProvider.System), new() { Limit = 10, WindowSeconds = 3600, Mode = RateLimitMode.Strict, FailurePolicy = failurePolicy });
        _store.ConflictsToInject = int.MaxValue;

        using var lease = await limiter.AcquireAsync(1);

        Assert.Equal(CounterShard.MaxAttempts, _store.Writes);
        Assert.Equal(failurePolicy == RateLimitFailurePolicy.FailOpen, lease.IsAcquired);
        Assert.Equal(failurePolicy == RateLimitFailurePolicy.FailClosed, lease.TryGetMetadata(RateLimitMetadata.Unavailable, out _));
    }

    [Fact]
    public async Task Fast_mode_never_admits_more_than_the_limit_in_a_window_across_instances()
    {
        var time = new FakeTimeProvider(TestLimiters.Start);
        var options = new RateLimitPolicyOptions { Limit = 100, WindowSeconds = 10, Mode = RateLimitMode.Fast, InstanceEstimate = 3 };
        var instances = Enumerable.Range(1, 3).Select(i => TestLimiters.Partition(TestLimiters.Runtime(_store, time, seed: i), options)).ToArray();
        var random = new Random(3);
        var perWindow = new Dictionary<long, int>();

        // Demand well above the limit (about 60 requests a second), spread unevenly over the instances, for 6 windows.
        while (true)
        {
            time.Advance(TimeSpan.FromSeconds(random.NextDouble() * 0.033));
            var window = (long)(time.GetUtcNow() - TestLimiters.Start).TotalSeconds / 10;
            if (window == 6)
            {
                break;
            }

            var instance = instances[random.Next(10) switch { < 6 => 0, < 9 => 1, _ => 2 }];
            using var lease = await instance.AcquireAsync(1);
            if (lease.IsAcquired)
            {
                perWindow[window] = perWindow.GetValueOrDefault(window) + 1;
            }
        }

        // Never more than the limit; less only by slices left unspent in a window (here: none or very few).
        Assert.Equal(6, perWindow.Count);
        Assert.All(perWindow.Values, admitted => Assert.InRange(admitted, 90, 100));
    }

    [Fact]
    public async Task Fast_mode_costs_at_most_one_table_operation_per_twenty_requests_at_steady_state()
    {
        var time = new FakeTimeProvider(TestLimiters.Start);
        var options = new RateLimitPolicyOptions { Limit = 10_000_000, WindowSeconds = 60, Mode = RateLimitMode.Fast, InstanceEstimate = 3 };
        var instances = Enumerable.Range(1, 3).Select(i => TestLimiters.Partition(TestLimiters.Runtime(_store, time, seed: i), options)).ToArray();

        // 300 requests a second over three instances: warm up for one window, then measure two.
        async Task<int> RunAsync(int seconds)
        {
            var admitted = 0;
            for (var i = 0; i < seconds * 300; i++)
            {
                time.Advance(TimeSpan.FromMilliseconds(1000.0 / 300));
                using var lease = await instances[i % 3].AcquireAsync(1);
                admitted += lease.IsAcquired ? 1 : 0;
            }

            return admitted;
        }

        await RunAsync(60);
        var before = _store.Operations;
        var admitted = await RunAsync(120);
        var perRequest = (double)(_store.Operations - before) / admitted;

        Assert.Equal(120 * 300, admitted);
        Assert.True(perRequest <= 0.05, $"{perRequest:F4} table operations per request.");
    }

    [Fact]
    public async Task A_spent_window_costs_no_table_operation_per_refused_request()
    {
        var time = new FakeTimeProvider(TestLimiters.Start);
        var limiter = TestLimiters.Partition(TestLimiters.Runtime(_store, time), new() { Limit = 5, WindowSeconds = 60, Mode = RateLimitMode.Strict });
        await TestLimiters.AdmitAsync(limiter, 6);
        var before = _store.Operations;

        Assert.Equal(0, await TestLimiters.AdmitAsync(limiter, 1000));

        Assert.Equal(before, _store.Operations);
    }

    [Theory]
    [InlineData(RateLimitMode.Strict, 0)]
    [InlineData(RateLimitMode.Fast, 1)]
    public async Task Token_bucket_admits_at_most_burst_plus_rate_times_the_interval_plus_the_fast_mode_lease(RateLimitMode mode, double leaseSeconds)
    {
        // 10 tokens a second, bucket of 20, three instances with uneven demand of about 45 a second.
        var time = new FakeTimeProvider(TestLimiters.Start);
        var options = new RateLimitPolicyOptions { Algorithm = RateLimitAlgorithm.TokenBucket, Limit = 100, WindowSeconds = 10, Burst = 20, Mode = mode, LeaseSeconds = Math.Max(0.1, leaseSeconds), InstanceEstimate = 3 };
        var instances = Enumerable.Range(1, 3).Select(i => TestLimiters.Partition(TestLimiters.Runtime(_store, time, seed: i), options)).ToArray();
        var random = new Random(11);
        var admitted = new List<double>();
        for (var elapsed = 0.0; elapsed < 40; )
        {
            var step = random.NextDouble() < 0.05 ? random.NextDouble() * 2 : random.NextDouble() * 0.04;
            elapsed += step;
            time.Advance(TimeSpan.FromSeconds(step));
            using var lease = await instances[random.Next(3)].AcquireAsync(1);
            if (lease.IsAcquired)
            {
                admitted.Add(elapsed);
            }
        }

        Assert.True(admitted.Count > 300, $"Only {admitted.Count} admitted.");
        foreach (var d in new[] { 0.05, 0.5, 1, 3, 10 })
        {
            var bound = 20 + (10 * (d + leaseSeconds));
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
    public async Task AttemptAcquire_never_touches_storage_and_answers_from_what_the_instance_holds()
    {
        var time = new FakeTimeProvider(TestLimiters.Start);
        var limiter = TestLimiters.Partition(TestLimiters.Runtime(_store, time), new() { Limit = 1000, WindowSeconds = 60, Mode = RateLimitMode.Fast });

        using (var cold = limiter.AttemptAcquire(1))
        {
            Assert.False(cold.IsAcquired);
            Assert.False(cold.TryGetMetadata(MetadataName.RetryAfter, out _));
            Assert.True(cold.TryGetMetadata(MetadataName.ReasonPhrase, out var reason));
            Assert.Contains("AcquireAsync", reason, StringComparison.Ordinal);
        }

        Assert.Equal(0, _store.Operations);

        // Traffic teaches the instance its rate; it leases a slice ahead.
        for (var i = 0; i < 20; i++)
        {
            time.Advance(TimeSpan.FromMilliseconds(10));
            using var lease = await limiter.AcquireAsync(1);
        }

        var operations = _store.Operations;
        Assert.True(limiter.GetStatistics().CurrentAvailablePermits > 0);
        using (var local = limiter.AttemptAcquire(1))
        {
            Assert.True(local.IsAcquired);
        }

        Assert.Equal(operations, _store.Operations);
    }

    [Fact]
    public async Task AttemptAcquire_refuses_with_retry_after_once_the_window_is_known_to_be_spent()
    {
        var time = new FakeTimeProvider(TestLimiters.Start + TimeSpan.FromSeconds(50));
        var limiter = TestLimiters.Partition(TestLimiters.Runtime(_store, time), new() { Limit = 2, WindowSeconds = 60, Mode = RateLimitMode.Strict });
        await TestLimiters.AdmitAsync(limiter, 3);
        var operations = _store.Operations;

        using var lease = limiter.AttemptAcquire(1);

        Assert.False(lease.IsAcquired);
        Assert.Equal(TimeSpan.FromSeconds(10), TestLimiters.RetryAfter(lease));
        Assert.Equal(operations, _store.Operations);
    }

    [Fact]
    public async Task AcquireAsync_honours_cancellation_and_loses_no_permit()
    {
        var limiter = TestLimiters.Partition(TestLimiters.Runtime(_store, TimeProvider.System), new() { Limit = 3, WindowSeconds = 3600, Mode = RateLimitMode.Strict });
        _store.Hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var cancel = new CancellationTokenSource();
        var waiting = limiter.AcquireAsync(1, cancel.Token).AsTask();

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        _store.Hold.SetResult();
        Assert.Equal(3, await TestLimiters.AdmitAsync(limiter, 5));
        Assert.Equal(3, Assert.Single(_store.Rows).Value.Count);
    }

    [Fact]
    public async Task An_already_cancelled_token_throws_before_anything_is_taken()
    {
        var limiter = TestLimiters.Partition(TestLimiters.Runtime(_store, TimeProvider.System), new() { Limit = 3, WindowSeconds = 3600, Mode = RateLimitMode.Strict });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await limiter.AcquireAsync(1, new CancellationToken(canceled: true)));

        Assert.Equal(0, _store.Writes);
    }
}
