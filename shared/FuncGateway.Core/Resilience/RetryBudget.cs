namespace FuncGateway.Resilience;

/// <summary>
/// Bounds the extra load retries add: over a sliding window of about <see cref="Window"/>, retries may be at most
/// <c>percent</c> of the requests plus <c>minPerSecond</c> × the window length. A failing pool therefore gets at most
/// a fixed fraction more traffic, never a retry storm. Lock-free: two counters per window, the window rolled over by
/// compare-and-swap; under contention the bound is approximate by a few retries.
/// </summary>
internal sealed class RetryBudget
{
    public static readonly TimeSpan Window = TimeSpan.FromSeconds(10);

    private readonly TimeProvider _time;
    private readonly double _ratio;
    private readonly double _floor;
    private Bucket _current;
    private Bucket _previous;

    public RetryBudget(double percent, double minPerSecond, TimeProvider time)
    {
        _time = time;
        _ratio = percent / 100;
        _floor = minPerSecond * Window.TotalSeconds;
        // No window is allocated until the route's first request: a table of 10,000 mostly idle routes would otherwise
        // hold two striped counters each (a cache line per core apiece: 2 KiB per route on 16 cores).
        _current = Unused;
        _previous = Unused;
    }

    /// <summary>The window of a budget that has counted nothing yet: older than any real one, so never weighed in.</summary>
    private static readonly Bucket Unused = new(long.MinValue);

    /// <summary>Counts one request (its first attempt).</summary>
    public void OnRequest() => Current().Requests.Increment();

    /// <summary>Takes one retry from the budget; false when the budget is spent.</summary>
    public bool TryWithdraw()
    {
        var current = Current();
        var previous = Volatile.Read(ref _previous);
        var progress = Progress();

        // The previous window weighs in for the part of it that the sliding window still covers.
        var weight = previous.Epoch == current.Epoch - 1 ? 1 - progress : 0;
        var requests = current.Requests.Sum() + (weight * previous.Requests.Sum());
        var retries = Volatile.Read(ref current.Retries) + (weight * Volatile.Read(ref previous.Retries));
        if (retries + 1 > _floor + (_ratio * requests))
        {
            return false;
        }

        Interlocked.Increment(ref current.Retries);
        return true;
    }

    private Bucket Current()
    {
        var epoch = Epoch();
        var current = Volatile.Read(ref _current);
        while (current.Epoch < epoch)
        {
            var next = new Bucket(epoch);
            if (Interlocked.CompareExchange(ref _current, next, current) == current)
            {
                Volatile.Write(ref _previous, current);
                return next;
            }

            current = Volatile.Read(ref _current);
        }

        return current;
    }

    private long Epoch() => _time.GetUtcNow().UtcTicks / Window.Ticks;

    private double Progress() => (double)(_time.GetUtcNow().UtcTicks % Window.Ticks) / Window.Ticks;

    private sealed class Bucket(long epoch)
    {
        public long Epoch { get; } = epoch;

        // Every request of the route counts here: striped, so cores do not contend for one cache line.
        public StripedCounter Requests { get; } = new();

        // A field, so it can be updated with Interlocked (only retries touch it).
        public int Retries;
    }
}

/// <summary>
/// A counter incremented from many cores at once: one cell (its own cache line) per stripe, picked by the current
/// processor; read by summing. Exact, and without the contention of a single shared field.
/// </summary>
internal sealed class StripedCounter
{
    private const int Padding = 8; // 8 longs = 64 bytes, one cache line per cell
    private static readonly int StripeMask = (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Math.Clamp(Environment.ProcessorCount, 1, 16)) - 1;

    private readonly long[] _cells = new long[(StripeMask + 1) * Padding];

    public void Increment() => Interlocked.Increment(ref _cells[(Thread.GetCurrentProcessorId() & StripeMask) * Padding]);

    public long Sum()
    {
        long sum = 0;
        for (var i = 0; i < _cells.Length; i += Padding)
        {
            sum += Volatile.Read(ref _cells[i]);
        }

        return sum;
    }
}
