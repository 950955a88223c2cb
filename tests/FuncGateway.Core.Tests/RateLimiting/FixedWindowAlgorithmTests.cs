using FuncGateway.RateLimiting;
using Microsoft.Extensions.Time.Testing;

namespace FuncGateway.Core.Tests.RateLimiting;

/// <summary>The fixed window's arithmetic on its own: its row, what is left, Retry-After, and when local permits lapse.</summary>
public sealed class FixedWindowAlgorithmTests
{
    private readonly FakeTimeProvider _time = new(TestLimiters.Start + TimeSpan.FromSeconds(20));

    private long Now => _time.GetUtcNow().ToUnixTimeMilliseconds();

    private static long WindowStart => TestLimiters.Start.ToUnixTimeMilliseconds();

    private static FixedWindowAlgorithm Algorithm(long limit = 10, int shards = 1, int shard = 0) =>
        new(new RateLimitLimits("p", null, RateLimitAlgorithm.FixedWindow, limit, limit, 60, shards, 1), shard);

    [Fact]
    public void Counts_a_window_in_a_row_of_its_own_that_maintenance_may_delete_when_the_window_ends()
    {
        var algorithm = Algorithm();
        algorithm.Roll(Now);
        var window = algorithm.Period;
        algorithm.Load(null, window, Now);

        var write = algorithm.Write(window, Now, give: 0, take: 3, "p", "ClientIp");

        Assert.Equal("w" + WindowStart.ToString("D15", System.Globalization.CultureInfo.InvariantCulture), algorithm.RowKey(window));
        Assert.Equal(new CounterWrite(3, 0, Now, TestLimiters.Start + TimeSpan.FromSeconds(60), TestLimiters.Start, 10, "p", "ClientIp"), write);
    }

    [Fact]
    public void Admits_the_limit_less_what_the_row_counts_and_counts_permits_given_back_as_never_taken()
    {
        var algorithm = Algorithm();
        algorithm.Roll(Now);
        var window = algorithm.Period;
        algorithm.Load(new CounterRow(7, 0, 0, "e1"), window, Now);

        Assert.Equal(3, algorithm.Available(window, Now, give: 0));
        Assert.Equal(5, algorithm.Available(window, Now, give: 2));

        // More given back than the row counts never makes the count negative.
        var write = algorithm.Write(window, Now, give: 9, take: 1, "p", "ClientIp");
        algorithm.Commit(write);
        Assert.Equal(1, write.Count);
        Assert.Equal(9, algorithm.Available(window, Now, give: 0));
    }

    [Fact]
    public void A_spent_window_has_a_permit_again_when_the_next_one_starts()
    {
        var algorithm = Algorithm(limit: 2);
        algorithm.Roll(Now);
        var window = algorithm.Period;
        algorithm.Load(new CounterRow(2, 0, 0, "e1"), window, Now);

        Assert.Equal(0, algorithm.Available(window, Now, give: 0));
        Assert.Equal(WindowStart + 60_000, algorithm.RetryAtMs(window, Now));
    }

    [Fact]
    public void A_shard_counts_its_share_of_the_limit()
    {
        var first = Algorithm(limit: 10, shards: 3, shard: 0);
        var last = Algorithm(limit: 10, shards: 3, shard: 2);
        first.Roll(Now);
        last.Roll(Now);
        first.Load(null, first.Period, Now);
        last.Load(null, last.Period, Now);

        Assert.Equal(4, first.Available(first.Period, Now, give: 0));
        Assert.Equal(3, last.Available(last.Period, Now, give: 0));
        Assert.Equal(3, last.Write(last.Period, Now, 0, 1, "p", "ClientIp").Limit);
    }

    [Fact]
    public void Local_permits_belong_to_their_window_and_lapse_when_it_ends()
    {
        var algorithm = Algorithm();
        Assert.True(algorithm.Roll(Now));
        var window = algorithm.Period;
        var stamp = algorithm.Spend(1);

        _time.Advance(TimeSpan.FromSeconds(39.999));
        Assert.False(algorithm.Roll(Now));
        Assert.True(algorithm.Covers(window, Now));
        Assert.True(algorithm.TryReturn(1, stamp, Now, intoSlice: true));
        Assert.Equal(0, algorithm.DropExpired(Now));

        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(algorithm.Roll(Now));
        Assert.False(algorithm.Covers(window, Now));
        Assert.Equal(window + 1, algorithm.Period);
        Assert.False(algorithm.TryReturn(1, stamp, Now, intoSlice: true));
        Assert.False(algorithm.TryReturn(1, stamp, Now, intoSlice: false));
    }

    [Fact]
    public void The_row_of_another_window_is_read_before_deciding_in_it()
    {
        var algorithm = Algorithm();
        algorithm.Roll(Now);
        var window = algorithm.Period;
        Assert.True(algorithm.MustRead(window));

        algorithm.Load(new CounterRow(4, 0, 0, "e1"), window, Now);

        Assert.False(algorithm.MustRead(window));
        Assert.True(algorithm.MustRead(window + 1));
        Assert.False(algorithm.NeedsPriorRow(window, out _));
    }
}
