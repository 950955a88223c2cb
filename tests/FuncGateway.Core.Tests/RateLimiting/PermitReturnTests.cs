using FuncGateway.RateLimiting;
using Microsoft.Extensions.Time.Testing;

namespace FuncGateway.Core.Tests.RateLimiting;

/// <summary>
/// Permits a request took and then did not use (another policy of its route refused it) go back: to the row in strict
/// mode, to the local slice in fast mode; never into a window that has ended or a slice that has expired.
/// </summary>
public sealed class PermitReturnTests
{
    private readonly InMemoryRateLimitStore _store = new();
    private readonly FakeTimeProvider _time = new(TestLimiters.Start + TimeSpan.FromSeconds(10));

    private PartitionLimiter Partition(RateLimitPolicyOptions options, int seed = 1) =>
        TestLimiters.Partition(TestLimiters.Runtime(_store, _time, seed: seed), options);

    private static async Task<GatewayRateLimitLease> AcquireAsync(PartitionLimiter limiter) => (GatewayRateLimitLease)await limiter.AcquireAsync(1);

    [Fact]
    public async Task Strict_mode_writes_a_returned_permit_back_so_the_shared_count_is_as_if_the_request_never_came()
    {
        var options = new RateLimitPolicyOptions { Limit = 3, WindowSeconds = 60, Mode = RateLimitMode.Strict };
        var here = Partition(options);
        var elsewhere = Partition(options, seed: 2);

        var lease = await AcquireAsync(here);
        Assert.True(lease.IsAcquired);
        Assert.Equal(1, Assert.Single(_store.Rows).Value.Count);
        var writes = _store.Writes;

        await lease.ReturnAsync();

        Assert.Equal(0, Assert.Single(_store.Rows).Value.Count);
        Assert.Equal(writes + 1, _store.Writes);

        // A second return of the same lease gives nothing more.
        await lease.ReturnAsync();
        Assert.Equal(writes + 1, _store.Writes);

        // The limit is whole again, for every instance.
        Assert.Equal(3, await TestLimiters.AdmitAsync(elsewhere, 5));
    }

    [Fact]
    public async Task A_returned_permit_reopens_a_window_this_instance_had_seen_spent()
    {
        var limiter = Partition(new RateLimitPolicyOptions { Limit = 1, WindowSeconds = 60, Mode = RateLimitMode.Strict });
        var lease = await AcquireAsync(limiter);
        Assert.False((await AcquireAsync(limiter)).IsAcquired);

        await lease.ReturnAsync();

        Assert.True((await AcquireAsync(limiter)).IsAcquired);
        Assert.Equal(1, Assert.Single(_store.Rows).Value.Count);
    }

    [Fact]
    public async Task Fast_mode_puts_a_returned_permit_back_in_the_local_slice_at_no_storage_cost()
    {
        var limiter = Partition(new RateLimitPolicyOptions { Limit = 100, WindowSeconds = 60, Mode = RateLimitMode.Fast });
        var lease = await AcquireAsync(limiter);
        var local = limiter.GetStatistics()!.CurrentAvailablePermits;
        var operations = _store.Attempts;

        await lease.ReturnAsync();

        Assert.Equal(local + 1, limiter.GetStatistics()!.CurrentAvailablePermits);
        Assert.Equal(operations, _store.Attempts);
    }

    [Fact]
    public async Task A_permit_of_a_window_that_has_ended_is_not_returned_into_the_next_one()
    {
        var limiter = Partition(new RateLimitPolicyOptions { Limit = 2, WindowSeconds = 60, Mode = RateLimitMode.Strict });
        var lease = await AcquireAsync(limiter);
        _time.Advance(TimeSpan.FromSeconds(60));
        var next = await AcquireAsync(limiter);
        var writes = _store.Writes;

        await lease.ReturnAsync();

        Assert.True(next.IsAcquired);
        Assert.Equal(writes, _store.Writes);
        Assert.Equal([1L, 1L], _store.Rows.Values.Select(r => r.Count));
    }

    [Fact]
    public async Task A_strict_token_bucket_gets_its_token_back()
    {
        var limiter = Partition(new RateLimitPolicyOptions { Algorithm = RateLimitAlgorithm.TokenBucket, Limit = 1, Burst = 2, WindowSeconds = 3600, Mode = RateLimitMode.Strict });
        var first = await AcquireAsync(limiter);
        Assert.Equal(1, Math.Floor(Assert.Single(_store.Rows).Value.Tokens + 1e-6));

        await first.ReturnAsync();

        Assert.Equal(2, Math.Floor(Assert.Single(_store.Rows).Value.Tokens + 1e-6));
        Assert.Equal(2, await TestLimiters.AdmitAsync(limiter, 3));
    }
}
