using FuncGateway.RateLimiting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace FuncGateway.Core.Tests.RateLimiting;

/// <summary>
/// The shared clock rate-limit windows follow: estimated from the storage service's <c>Date</c> headers, bounded by
/// what every recent response allows, and warning when the instance's own clock is far off.
/// </summary>
public sealed class StorageClockTests
{
    /// <summary>Storage's clock relative to this instance's: 30.25 s behind (this instance is fast).</summary>
    private const long TrueOffsetMs = -30_250;

    private readonly FakeTimeProvider _time = new(TestLimiters.Start + TimeSpan.FromSeconds(40));
    private readonly ListLogger _log = new();

    private long StorageNowMs(long offsetMs = TrueOffsetMs) => _time.GetUtcNow().ToUnixTimeMilliseconds() + offsetMs;

    /// <summary>One request: 10 ms to reach storage, answered dated with storage's whole second, 10 ms back.</summary>
    private void Respond(StorageClock clock, long offsetMs = TrueOffsetMs)
    {
        var sent = _time.GetTimestamp();
        _time.Advance(TimeSpan.FromMilliseconds(10));
        var date = DateTimeOffset.FromUnixTimeMilliseconds(StorageNowMs(offsetMs));
        _time.Advance(TimeSpan.FromMilliseconds(10));
        clock.AddSample(sent, _time.GetTimestamp(), date.AddTicks(-(date.Ticks % TimeSpan.TicksPerSecond)));
    }

    [Fact]
    public void Before_any_response_the_clock_is_the_local_one_and_one_response_sets_it_within_half_a_second_plus_the_round_trip()
    {
        var clock = new StorageClock(_time, _log);
        Assert.False(clock.IsSynchronized);
        Assert.Equal(_time.GetUtcNow().ToUnixTimeMilliseconds(), clock.NowMs);

        Respond(clock);

        Assert.True(clock.IsSynchronized);
        Assert.InRange(clock.Uncertainty!.Value.TotalMilliseconds, 0, 520);
        Assert.InRange(clock.NowMs - StorageNowMs(), -clock.Uncertainty.Value.TotalMilliseconds, clock.Uncertainty.Value.TotalMilliseconds);
    }

    [Fact]
    public void Responses_at_different_points_of_the_second_narrow_the_estimate_to_the_round_trip()
    {
        var clock = new StorageClock(_time, _log);
        for (var i = 0; i < 32; i++)
        {
            Respond(clock);
            _time.Advance(TimeSpan.FromMilliseconds(137));

            // Never outside what the responses allow, however few.
            Assert.InRange(clock.NowMs - StorageNowMs(), -clock.Uncertainty!.Value.TotalMilliseconds, clock.Uncertainty.Value.TotalMilliseconds);
        }

        Assert.InRange(clock.Uncertainty!.Value.TotalMilliseconds, 0, 20);
        Assert.InRange(clock.NowMs - StorageNowMs(), -20, 20);
    }

    [Fact]
    public void When_the_service_clock_moves_the_estimate_follows_the_newest_responses()
    {
        var clock = new StorageClock(_time, _log);
        for (var i = 0; i < 10; i++)
        {
            Respond(clock);
            _time.Advance(TimeSpan.FromMilliseconds(137));
        }

        for (var i = 0; i < 10; i++)
        {
            Respond(clock, TrueOffsetMs + 5_000);
            _time.Advance(TimeSpan.FromMilliseconds(137));
        }

        Assert.InRange(clock.NowMs - StorageNowMs(TrueOffsetMs + 5_000), -clock.Uncertainty!.Value.TotalMilliseconds, clock.Uncertainty.Value.TotalMilliseconds);
    }

    [Fact]
    public void A_skew_beyond_five_seconds_is_logged_once_per_change_and_its_end_too()
    {
        var clock = new StorageClock(_time, _log);
        for (var i = 0; i < 20; i++)
        {
            Respond(clock);
            _time.Advance(TimeSpan.FromMilliseconds(137));
        }

        var warning = Assert.Single(_log.Entries);
        Assert.Equal((LogLevel.Warning, 5011), (warning.Level, warning.EventId));
        Assert.Contains("-30.", warning.Message, StringComparison.Ordinal);
        Assert.InRange(clock.Skew.TotalMilliseconds, TrueOffsetMs - 30, TrueOffsetMs + 30);

        // The machine's clock is fixed (storage is now where this instance's clock is): one line says so.
        for (var i = 0; i < 20; i++)
        {
            Respond(clock, 0);
            _time.Advance(TimeSpan.FromMilliseconds(137));
        }

        Assert.Equal([5011, 5012], _log.Entries.Select(e => e.EventId));
    }

    [Fact]
    public async Task Two_instances_thirty_seconds_apart_count_in_one_window_once_storage_has_set_their_clocks()
    {
        // 40 s into a minute on storage's clock; the second instance's own clock says 10 s into the next minute.
        var store = new InMemoryRateLimitStore();
        var options = new RateLimitPolicyOptions { Limit = 10, WindowSeconds = 60, Mode = RateLimitMode.Strict };
        var fastTime = new FakeTimeProvider(_time.GetUtcNow() + TimeSpan.FromSeconds(30));
        var right = TestLimiters.Runtime(store, _time, seed: 1);
        var fast = new RateLimitRuntime(store, fastTime, Microsoft.Extensions.Options.Options.Create(right.Options), NullLogger<RateLimitRuntime>.Instance, TestLimiters.KeyHasher);
        var date = _time.GetUtcNow();
        right.Clock.AddSample(_time.GetTimestamp(), _time.GetTimestamp(), date);
        fast.Clock.AddSample(fastTime.GetTimestamp(), fastTime.GetTimestamp(), date);

        var admitted = await TestLimiters.AdmitAsync(TestLimiters.Partition(right, options), 10)
            + await TestLimiters.AdmitAsync(TestLimiters.Partition(fast, options), 10);

        Assert.Equal(10, admitted);
        Assert.Equal(10, Assert.Single(store.Rows).Value.Count);
    }

    private sealed class ListLogger : ILogger
    {
        public List<(LogLevel Level, int EventId, string Message)> Entries { get; } = [];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Entries.Add((logLevel, eventId.Id, formatter(state, exception)));
    }
}
