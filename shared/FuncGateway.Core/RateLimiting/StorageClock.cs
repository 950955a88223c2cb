using Microsoft.Extensions.Logging;

namespace FuncGateway.RateLimiting;

/// <summary>
/// The storage service's clock, as this instance estimates it: the one clock every instance shares, so rate-limit
/// windows (and token-bucket refills) line up across instances whatever their own clocks say.
/// </summary>
/// <remarks>
/// <para>
/// Every response of the counter table carries a <c>Date</c> header: the service's time, truncated to the second. A
/// response sent at local time <c>s</c> and received at <c>r</c> (this instance's monotonic clock, which wall-clock
/// steps do not move) with date <c>D</c> says the offset <c>θ</c> = service time − local time lies in
/// [<c>D − r</c>, <c>D + 1 s − s</c>]. The estimate is the middle of the intersection of the recent samples' intervals
/// (the last <see cref="MaxSamples"/>, at most <see cref="MaxSampleAge"/> old), so its error is at most half that
/// intersection's width (<see cref="Uncertainty"/>): about 0.5 s plus half a round trip after one sample, shrinking to
/// about half a round trip as samples fall at different points of the second. A sample can only narrow the
/// interval, so the estimate moves smoothly and stays within what every recent sample allows; one that contradicts
/// the older samples (the service's clock moved) starts the interval afresh from the newest samples that agree.
/// </para>
/// <para>
/// Until the first sample the clock is this instance's own. The counter table is touched at start-up, and a
/// counter's first write follows a read, which re-checks the window with the sample it brings.
/// </para>
/// </remarks>
internal sealed class StorageClock
{
    /// <summary>Samples kept.</summary>
    public const int MaxSamples = 32;

    /// <summary>An instance whose own clock is further than this from the service's logs a warning (event 5011).</summary>
    public static readonly TimeSpan SkewWarningThreshold = TimeSpan.FromSeconds(5);

    /// <summary>Older samples are forgotten, so a drifting local clock is followed.</summary>
    public static readonly TimeSpan MaxSampleAge = TimeSpan.FromMinutes(10);

    /// <summary>A logged skew is logged again when it moved by at least this much.</summary>
    private static readonly TimeSpan SkewLogStep = TimeSpan.FromSeconds(1);

    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly long _origin;
    private readonly Lock _gate = new();
    private readonly Queue<Sample> _samples = new();
    private long _offsetMs;
    private long _uncertaintyMs = -1;
    private long? _loggedSkewMs;

    public StorageClock(TimeProvider time, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(time);
        _time = time;
        _logger = logger;
        _origin = time.GetTimestamp();
        _offsetMs = time.GetUtcNow().ToUnixTimeMilliseconds();
    }

    /// <summary>Now on the storage service's clock (the local clock until the first sample), Unix milliseconds.</summary>
    public long NowMs => LocalMs(_time.GetTimestamp()) + Volatile.Read(ref _offsetMs);

    /// <summary>Whether a storage response has set the clock yet.</summary>
    public bool IsSynchronized => Volatile.Read(ref _uncertaintyMs) >= 0;

    /// <summary>The most the estimate can be off by (unknown before the first sample).</summary>
    public TimeSpan? Uncertainty => Volatile.Read(ref _uncertaintyMs) is var ms and >= 0 ? TimeSpan.FromMilliseconds(ms) : null;

    /// <summary>The service's clock minus this instance's wall clock, as last estimated.</summary>
    public TimeSpan Skew => TimeSpan.FromMilliseconds(NowMs - _time.GetUtcNow().ToUnixTimeMilliseconds());

    /// <summary>A timestamp of the clock samples are measured with (<see cref="TimeProvider.GetTimestamp"/>).</summary>
    public long Timestamp() => _time.GetTimestamp();

    /// <summary>Learns from one response: sent at <paramref name="sentTimestamp"/>, received at <paramref name="receivedTimestamp"/>, dated <paramref name="date"/>.</summary>
    public void AddSample(long sentTimestamp, long receivedTimestamp, DateTimeOffset date)
    {
        var sent = LocalMs(sentTimestamp);
        var received = LocalMs(Math.Max(sentTimestamp, receivedTimestamp));

        // HTTP dates have whole seconds: the service's time was somewhere in [date, date + 1 s).
        var dateMs = date.ToUnixTimeMilliseconds();
        dateMs -= ((dateMs % 1000) + 1000) % 1000;
        var sample = new Sample(dateMs - received, dateMs + 1000 - sent, received);
        long skewMs;
        lock (_gate)
        {
            _samples.Enqueue(sample);
            while (_samples.Count > MaxSamples || received - _samples.Peek().ReceivedMs > (long)MaxSampleAge.TotalMilliseconds)
            {
                _samples.Dequeue();
            }

            // Newest first: intersect while the samples agree; older ones that contradict them are dropped.
            var ordered = _samples.Reverse().ToArray();
            var (low, high) = (ordered[0].LowMs, ordered[0].HighMs);
            var agreeing = 1;
            for (; agreeing < ordered.Length; agreeing++)
            {
                var nextLow = Math.Max(low, ordered[agreeing].LowMs);
                var nextHigh = Math.Min(high, ordered[agreeing].HighMs);
                if (nextLow > nextHigh)
                {
                    break;
                }

                (low, high) = (nextLow, nextHigh);
            }

            while (_samples.Count > agreeing)
            {
                _samples.Dequeue();
            }

            Volatile.Write(ref _offsetMs, low + ((high - low) / 2));
            Volatile.Write(ref _uncertaintyMs, (high - low + 1) / 2);
            skewMs = (long)Skew.TotalMilliseconds;
            if (!ShouldLog(skewMs))
            {
                return;
            }

            _loggedSkewMs = Math.Abs(skewMs) >= SkewWarningThreshold.TotalMilliseconds ? skewMs : null;
        }

        if (Math.Abs(skewMs) >= SkewWarningThreshold.TotalMilliseconds)
        {
            RateLimitLog.ClockSkewed(_logger, skewMs / 1000.0, SkewWarningThreshold.TotalSeconds, (_uncertaintyMs + 999) / 1000.0);
        }
        else
        {
            RateLimitLog.ClockSkewResolved(_logger, skewMs / 1000.0);
        }
    }

    /// <summary>Under _gate: a change worth a log line: crossing the threshold either way, or a logged skew that moved by a second or more.</summary>
    private bool ShouldLog(long skewMs)
    {
        var beyond = Math.Abs(skewMs) >= SkewWarningThreshold.TotalMilliseconds;
        return _loggedSkewMs is { } logged
            ? !beyond || Math.Abs(skewMs - logged) >= SkewLogStep.TotalMilliseconds
            : beyond;
    }

    private long LocalMs(long timestamp) => (long)_time.GetElapsedTime(_origin, timestamp).TotalMilliseconds;

    /// <summary>One response's bounds on the offset, and when it arrived (local milliseconds).</summary>
    private readonly record struct Sample(long LowMs, long HighMs, long ReceivedMs);
}
