using System.Globalization;

namespace FuncGateway.RateLimiting;

/// <summary>
/// What the window algorithms share: windows aligned to the Unix epoch, one row per window counting the permits taken
/// in it (RowKey <c>w</c> and the window's start, 15 digits), and local permits that lapse when their window ends.
/// </summary>
internal abstract class WindowAlgorithm(RateLimitLimits limits, int shard) : CounterAlgorithm
{
    // Local permits.
    private long _window = long.MinValue;

    // The row.
    private long _rowWindow = long.MinValue;

    public override long Period => _window;

    /// <summary>This shard's share of the limit.</summary>
    protected long Limit { get; } = limits.ShardLimit(shard);

    protected long WindowMs => limits.WindowMs;

    /// <summary>Permits counted in the row of the window last read or written.</summary>
    protected long RowCount { get; private set; }

    /// <summary>How many windows a row means something for, from its window's start; maintenance deletes it after.</summary>
    protected abstract int RowLifetimeWindows { get; }

    public override bool Roll(long nowMs)
    {
        var window = CounterMath.WindowOf(nowMs, WindowMs);
        if (window == _window)
        {
            return false;
        }

        _window = window;
        return true;
    }

    public override long DropExpired(long nowMs) => 0;

    public override long Spend(long permits) => _window;

    public override bool TryReturn(long permits, long stamp, long nowMs, bool intoSlice) => stamp == _window;

    public override void Hold(long permits, long nowMs)
    {
    }

    public override void Clear()
    {
    }

    public override string RowKey(long period) => "w" + CounterMath.WindowStartMs(period, WindowMs).ToString("D15", CultureInfo.InvariantCulture);

    public override bool MustRead(long period) => _rowWindow != period;

    public override void Load(CounterRow? row, long period, long nowMs)
    {
        _rowWindow = period;
        RowCount = row?.Count ?? 0;
    }

    public override bool Covers(long period, long nowMs) => CounterMath.WindowOf(nowMs, WindowMs) == period;

    public override long Available(long period, long nowMs, long give) => Left(Math.Max(0, RowCount - give), period, nowMs);

    public override CounterWrite Write(long period, long nowMs, long give, long take, string policy, string partitionBy)
    {
        var count = Math.Max(0, RowCount - give) + take;
        var start = CounterMath.WindowStartMs(period, WindowMs);
        var expires = start + (WindowMs * RowLifetimeWindows);
        return new CounterWrite(
            count, 0, nowMs, DateTimeOffset.FromUnixTimeMilliseconds(expires), DateTimeOffset.FromUnixTimeMilliseconds(start), Limit, policy, partitionBy);
    }

    public override void Commit(in CounterWrite write) => RowCount = write.Count;

    /// <summary>Permits left in <paramref name="period"/> at <paramref name="nowMs"/> with <paramref name="counted"/> taken in it.</summary>
    protected abstract long Left(long counted, long period, long nowMs);
}
