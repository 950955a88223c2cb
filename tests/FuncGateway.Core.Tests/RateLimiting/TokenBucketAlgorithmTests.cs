using FuncGateway.RateLimiting;
using Microsoft.Extensions.Time.Testing;

namespace FuncGateway.Core.Tests.RateLimiting;

/// <summary>The token bucket's arithmetic on its own: its one row, refill, Retry-After, and the leases of local tokens.</summary>
public sealed class TokenBucketAlgorithmTests
{
    private const long LeaseMs = 2000;

    private readonly FakeTimeProvider _time = new(TestLimiters.Start + TimeSpan.FromSeconds(5));

    private long Now => _time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>10 tokens per 10 s (one a second), a bucket of 5.</summary>
    private static TokenBucketAlgorithm Algorithm() =>
        new(new RateLimitLimits("p", null, RateLimitAlgorithm.TokenBucket, 10, 5, 10, 1, 1), 0, LeaseMs);

    [Fact]
    public void Has_one_row_for_ever_which_starts_full_and_may_be_deleted_once_full_again()
    {
        var algorithm = Algorithm();
        Assert.False(algorithm.Roll(Now));
        var period = algorithm.Period;
        Assert.Equal("bucket", algorithm.RowKey(period));
        Assert.False(algorithm.MustRead(period));
        Assert.False(algorithm.NeedsPriorRow(period, out _));

        algorithm.Load(null, period, Now);
        Assert.Equal(5, algorithm.Available(period, Now, give: 0));

        var write = algorithm.Write(period, Now, give: 0, take: 3, "p", "ClientIp");
        Assert.Equal(new CounterWrite(0, 2, Now, _time.GetUtcNow() + TimeSpan.FromSeconds(3), null, 5, "p", "ClientIp"), write);
    }

    [Fact]
    public void Refills_at_its_rate_up_to_its_size_and_says_when_the_next_token_comes()
    {
        var algorithm = Algorithm();
        var period = algorithm.Period;
        algorithm.Load(new CounterRow(0, 0.5, Now, "e1"), period, Now);

        Assert.Equal(0, algorithm.Available(period, Now, give: 0));
        Assert.Equal(Now + 500, algorithm.RetryAtMs(period, Now));

        _time.Advance(TimeSpan.FromSeconds(2.5));
        Assert.Equal(3, algorithm.Available(period, Now, give: 0));
        Assert.Equal(5, algorithm.Available(period, Now, give: 4));
        Assert.Equal(5, algorithm.Write(period, Now, give: 4, take: 0, "p", "ClientIp").Tokens);

        _time.Advance(TimeSpan.FromMinutes(10));
        Assert.Equal(5, algorithm.Available(period, Now, give: 0));
        Assert.True(algorithm.Covers(period, Now));
    }

    [Fact]
    public void A_row_written_ahead_of_this_instances_clock_does_not_refill_backwards()
    {
        var algorithm = Algorithm();
        var period = algorithm.Period;
        algorithm.Load(new CounterRow(0, 2, Now + 1000, "e1"), period, Now);

        var write = algorithm.Write(period, Now, give: 0, take: 2, "p", "ClientIp");
        algorithm.Commit(write);

        Assert.Equal(Now + 1000, write.UpdatedAtMs);
        Assert.Equal(0, algorithm.Available(period, Now, give: 0));
    }

    [Fact]
    public void Local_tokens_are_spent_within_their_lease_or_dropped()
    {
        var algorithm = Algorithm();
        algorithm.Hold(3, Now);
        Assert.Equal(Now + LeaseMs, algorithm.Spend(1));

        _time.Advance(TimeSpan.FromMilliseconds(LeaseMs - 1));
        Assert.Equal(0, algorithm.DropExpired(Now));

        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(2, algorithm.DropExpired(Now));
        Assert.Equal(0, algorithm.DropExpired(Now));
    }

    [Fact]
    public void A_token_given_back_keeps_its_slices_expiry_in_fast_mode_and_is_passed_on_to_the_row_in_strict_mode()
    {
        var algorithm = Algorithm();
        algorithm.Hold(1, Now);
        var stamp = algorithm.Spend(1);

        Assert.True(algorithm.TryReturn(1, stamp, Now, intoSlice: true));
        Assert.Equal(stamp, algorithm.Spend(1));

        _time.Advance(TimeSpan.FromMilliseconds(LeaseMs));
        Assert.False(algorithm.TryReturn(1, stamp, Now, intoSlice: true));

        // Strict mode: a token on its way back to the row never lapses here; it is held until the write.
        Assert.True(algorithm.TryReturn(1, stamp, Now, intoSlice: false));
        _time.Advance(TimeSpan.FromMilliseconds(LeaseMs - 1));
        Assert.Equal(0, algorithm.DropExpired(Now));
        algorithm.Clear();
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(0, algorithm.DropExpired(Now));
    }

    [Fact]
    public void A_fifth_slice_merges_into_the_newest_and_lives_no_longer_than_it()
    {
        var algorithm = Algorithm();
        var first = Now;
        for (var i = 0; i < 5; i++)
        {
            algorithm.Hold(1, Now);
            _time.Advance(TimeSpan.FromMilliseconds(100));
        }

        _time.AdjustTime(DateTimeOffset.FromUnixTimeMilliseconds(first + 300 + LeaseMs));
        Assert.Equal(5, algorithm.DropExpired(Now));
    }
}
