namespace FuncGateway.Dashboard;

/// <summary>
/// A rolling window of counters in <see cref="BucketCount"/> time buckets of <see cref="BucketSeconds"/> each (the
/// last five minutes): what the dashboard shows per route and per rate-limit policy. Recording is lock-free and
/// allocates only when a bucket starts (once per bucket period per key): a writer increments an <see cref="int"/>
/// slot of the current bucket; a writer that finds the slot's bucket from an older period swaps in a new one. A count
/// that races a swap may be lost; for a dashboard, that is the price of never taking a lock on the request path.
/// </summary>
internal sealed class TrafficWindow
{
    /// <summary>Seconds per bucket.</summary>
    public const int BucketSeconds = 10;

    /// <summary>Buckets kept: <see cref="BucketCount"/> × <see cref="BucketSeconds"/> = 300 s.</summary>
    public const int BucketCount = 30;

    private readonly TrafficBucket?[] _buckets = new TrafficBucket?[BucketCount];
    private readonly int _width;

    /// <param name="width">Counters per bucket.</param>
    public TrafficWindow(int width) => _width = width;

    /// <summary>The bucket period (<see cref="BucketSeconds"/> since the time provider's epoch) of the last write.</summary>
    public long LastPeriod { get; private set; } = -1;

    /// <summary>Adds one to counter <paramref name="slot"/> of period <paramref name="period"/>.</summary>
    public void Increment(long period, int slot)
    {
        if (Current(period) is { } bucket)
        {
            Interlocked.Increment(ref bucket.Counts[slot]);
        }
    }

    /// <summary>The bucket of <paramref name="period"/>, started if the slot holds an older one; null for a period already overwritten.</summary>
    private TrafficBucket? Current(long period)
    {
        ref var slot = ref _buckets[(int)(period % BucketCount)];
        var bucket = Volatile.Read(ref slot);
        if (bucket is not null && bucket.Period == period)
        {
            return bucket;
        }

        if (bucket is not null && bucket.Period > period)
        {
            return null;
        }

        var fresh = new TrafficBucket(period, _width);
        var seen = Interlocked.CompareExchange(ref slot, fresh, bucket);
        LastPeriod = period;
        return ReferenceEquals(seen, bucket) ? fresh : seen is not null && seen.Period == period ? seen : null;
    }

    /// <summary>
    /// The counters summed over the periods from <paramref name="fromPeriod"/> to <paramref name="toPeriod"/>
    /// (inclusive), into <paramref name="sums"/> (length <c>width</c>).
    /// </summary>
    public void Sum(long fromPeriod, long toPeriod, Span<long> sums)
    {
        foreach (var bucket in _buckets)
        {
            if (bucket is not null && bucket.Period >= fromPeriod && bucket.Period <= toPeriod)
            {
                for (var i = 0; i < sums.Length; i++)
                {
                    sums[i] += Volatile.Read(ref bucket.Counts[i]);
                }
            }
        }
    }

    /// <summary>The bucket of one period (null when it saw nothing).</summary>
    public int[]? Counts(long period) =>
        Volatile.Read(ref _buckets[(int)(period % BucketCount)]) is { } bucket && bucket.Period == period ? bucket.Counts : null;

    private sealed class TrafficBucket(long period, int width)
    {
        public readonly long Period = period;

        public readonly int[] Counts = new int[width];
    }
}

/// <summary>
/// Latency bins for the dashboard's percentiles: 4 bins per power of two of microseconds (each bin at most 25 %
/// wide, reported at its middle, so within about ±12 %), from 0 to about 268 s; anything longer is in the last bin.
/// Computed with integer operations only.
/// </summary>
internal static class LatencyBins
{
    /// <summary>The number of bins.</summary>
    public const int Count = 108;

    /// <summary>The bin of a duration in microseconds.</summary>
    public static int Of(long microseconds)
    {
        if (microseconds < 4)
        {
            return (int)Math.Max(0, microseconds);
        }

        var exponent = 63 - (int)long.LeadingZeroCount(microseconds);
        var bin = (4 * (exponent - 1)) + (int)((microseconds >> (exponent - 2)) & 3);
        return Math.Min(bin, Count - 1);
    }

    /// <summary>The lower bound of a bin, in microseconds.</summary>
    public static long LowerBound(int bin) => bin < 4 ? bin : (4L + (bin % 4)) << ((bin / 4) - 1);

    /// <summary>The upper bound of a bin, in microseconds.</summary>
    public static long UpperBound(int bin) => bin < 4 ? bin + 1 : (5L + (bin % 4)) << ((bin / 4) - 1);

    /// <summary>
    /// The <paramref name="quantile"/> (0–1) of the durations counted in <paramref name="bins"/>, in milliseconds, as
    /// the middle of the bin it falls in; null when there are none.
    /// </summary>
    public static double? Quantile(ReadOnlySpan<long> bins, long total, double quantile)
    {
        if (total <= 0)
        {
            return null;
        }

        var rank = Math.Max(1, (long)Math.Ceiling(quantile * total));
        long seen = 0;
        for (var bin = 0; bin < bins.Length; bin++)
        {
            seen += bins[bin];
            if (seen >= rank)
            {
                return (LowerBound(bin) + UpperBound(bin)) / 2.0 / 1000.0;
            }
        }

        return (LowerBound(Count - 1) + UpperBound(Count - 1)) / 2.0 / 1000.0;
    }
}
