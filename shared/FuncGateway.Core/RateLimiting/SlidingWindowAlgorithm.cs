namespace FuncGateway.RateLimiting;

/// <summary>
/// <see cref="RateLimitAlgorithm.SlidingWindow"/>: the weighted two-window estimate. The previous window's row counts
/// in proportion to how much of it a window ending now still covers, so it is read once per window and a row is kept
/// for two windows.
/// </summary>
internal sealed class SlidingWindowAlgorithm(RateLimitLimits limits, int shard) : WindowAlgorithm(limits, shard)
{
    // The previous window's row: once read it stays as it is, as nobody counts in a window that has ended.
    private long _priorWindow = long.MinValue;
    private long _priorCount;

    protected override int RowLifetimeWindows => 2;

    public override bool NeedsPriorRow(long period, out long priorPeriod)
    {
        priorPeriod = period - 1;
        return _priorWindow != priorPeriod;
    }

    public override void LoadPriorRow(CounterRow? row, long priorPeriod)
    {
        _priorWindow = priorPeriod;
        _priorCount = row?.Count ?? 0;
    }

    public override long RetryAtMs(long period, long nowMs) =>
        Math.Max(nowMs + 1, CounterMath.SlidingRetryAtMs(Limit, _priorCount, RowCount, period, WindowMs));

    protected override long Left(long counted, long period, long nowMs) =>
        CounterMath.SlidingAvailable(Limit, _priorCount, counted, nowMs, period, WindowMs);
}
