using FuncGateway.Discovery;
using Microsoft.Extensions.Time.Testing;

namespace FuncGateway.Core.Tests.Discovery;

/// <summary>The backoff between failed attempts, and the two transitions a source logs once each.</summary>
public sealed class DiscoveryRetryTests
{
    [Fact]
    public void The_delay_doubles_from_one_second_up_to_thirty_and_an_outage_starts_and_ends_once()
    {
        var retry = new DiscoveryRetry(new FakeTimeProvider());
        var delays = new List<double>();
        var starts = new List<bool>();
        for (var i = 0; i < 7; i++)
        {
            starts.Add(retry.Fail("refused"));
            delays.Add(retry.NextDelay().TotalSeconds);
        }

        Assert.Equal([1, 2, 4, 8, 16, 30, 30], delays);
        Assert.Equal([true, false, false, false, false, false, false], starts);
        Assert.True(retry.Succeed());
        Assert.False(retry.Succeed());
        Assert.True(retry.Fail("refused"));
        Assert.Equal(1, retry.NextDelay().TotalSeconds);
    }

    [Fact]
    public async Task The_wait_runs_on_the_injected_clock_and_ends_early_when_cancelled()
    {
        var time = new FakeTimeProvider();
        var retry = new DiscoveryRetry(time);
        retry.Fail("refused");
        retry.Fail("refused");

        var waiting = retry.DelayAsync(CancellationToken.None);
        time.Advance(TimeSpan.FromMilliseconds(1999));
        Assert.False(waiting.IsCompleted);
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(await waiting);

        using var cancel = new CancellationTokenSource();
        var cancelled = retry.DelayAsync(cancel.Token);
        await cancel.CancelAsync();
        Assert.False(await cancelled);
    }

    [Fact]
    public void The_last_failure_is_the_sources_status_until_a_success_clears_it()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero));
        var retry = new DiscoveryRetry(time);
        Assert.Null(retry.LastError);

        retry.Fail("connection refused");
        time.Advance(TimeSpan.FromSeconds(5));
        retry.Fail("HTTP 500");
        Assert.Equal("HTTP 500", retry.LastError);
        Assert.Equal(time.GetUtcNow(), retry.LastErrorAt);

        retry.Succeed();
        Assert.Null(retry.LastError);
        Assert.Null(retry.LastErrorAt);
    }
}
