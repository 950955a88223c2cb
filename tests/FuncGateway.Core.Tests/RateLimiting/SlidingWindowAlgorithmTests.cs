using FuncGateway.RateLimiting;
using Microsoft.Extensions.Time.Testing;

namespace FuncGateway.Core.Tests.RateLimiting;

/// <summary>The sliding window's arithmetic on its own: the previous window's row, the weighted estimate, Retry-After.</summary>
public sealed class SlidingWindowAlgorithmTests
{
    private readonly FakeTimeProvider _time = new(TestLimiters.Start + TimeSpan.FromSeconds(60));

    private long Now => _time.GetUtcNow().ToUnixTimeMilliseconds();

    private static long PreviousStart => TestLimiters.Start.ToUnixTimeMilliseconds();

    private static SlidingWindowAlgorithm Algorithm(long limit = 10) =>
        new(new RateLimitLimits("p", null, RateLimitAlgorithm.SlidingWindow, limit, limit, 60, 1, 1), 0);

    [Fact]
    public void Reads_the_previous_windows_row_once_per_window()
    {
        var algorithm = Algorithm();
        algorithm.Roll(Now);
        var window = algorithm.Period;

        Assert.True(algorithm.NeedsPriorRow(window, out var prior));
        Assert.Equal(window - 1, prior);
        algorithm.LoadPriorRow(new CounterRow(10, 0, 0, "e0"), prior);
        Assert.False(algorithm.NeedsPriorRow(window, out _));

        Assert.True(algorithm.NeedsPriorRow(window + 1, out var next));
        Assert.Equal(window, next);
    }

    [Fact]
    public void Weighs_the_previous_window_by_how_much_of_it_still_overlaps_and_says_when_a_permit_is_free()
    {
        // As in AlgorithmTests: 10 in the previous window; 15 s into this one 7.5 of them still count, so 2 are left.
        var algorithm = Algorithm();
        _time.Advance(TimeSpan.FromSeconds(15));
        algorithm.Roll(Now);
        var window = algorithm.Period;
        algorithm.Load(null, window, Now);
        algorithm.NeedsPriorRow(window, out var prior);
        algorithm.LoadPriorRow(new CounterRow(10, 0, 0, "e0"), prior);

        Assert.Equal(2, algorithm.Available(window, Now, give: 0));
        algorithm.Commit(algorithm.Write(window, Now, give: 0, take: 2, "p", "ClientIp"));

        // The next permit is free once 10 × (1 − f) + 2 ≤ 9: 18 s into the window.
        Assert.Equal(0, algorithm.Available(window, Now, give: 0));
        Assert.Equal(PreviousStart + 60_000 + 18_000, algorithm.RetryAtMs(window, Now));
    }

    [Fact]
    public void Retry_after_is_never_now_or_earlier()
    {
        var algorithm = Algorithm(limit: 1);
        algorithm.Roll(Now);
        var window = algorithm.Period;
        algorithm.Load(null, window, Now);
        algorithm.NeedsPriorRow(window, out var prior);
        algorithm.LoadPriorRow(null, prior);

        Assert.Equal(Now + 1, algorithm.RetryAtMs(window, Now));
    }

    [Fact]
    public void Keeps_a_row_for_two_windows_as_it_still_counts_in_the_next_one()
    {
        var algorithm = Algorithm();
        algorithm.Roll(Now);
        var window = algorithm.Period;
        algorithm.Load(new CounterRow(4, 0, 0, "e1"), window, Now);
        algorithm.NeedsPriorRow(window, out var prior);
        algorithm.LoadPriorRow(null, prior);

        var write = algorithm.Write(window, Now, give: 1, take: 2, "p", "tier=gold&Consumer");

        var start = TestLimiters.Start + TimeSpan.FromSeconds(60);
        Assert.Equal(new CounterWrite(5, 0, Now, start + TimeSpan.FromSeconds(120), start, 10, "p", "tier=gold&Consumer"), write);
        Assert.StartsWith("w", algorithm.RowKey(window), StringComparison.Ordinal);
    }
}
