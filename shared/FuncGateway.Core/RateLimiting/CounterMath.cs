namespace FuncGateway.RateLimiting;

/// <summary>
/// The arithmetic of the three algorithms, shared by the distributed counters and the fail-open local limiter.
/// Times are Unix milliseconds on the storage service's clock (<see cref="StorageClock"/>); windows are aligned to the
/// Unix epoch, so every instance agrees on them (to within its estimate of that clock).
/// </summary>
internal static class CounterMath
{
    /// <summary>Float slack, so that 100 − 0.3 × 1000/3 style products do not lose a permit to rounding.</summary>
    private const double Epsilon = 1e-9;

    public static long WindowOf(long nowMs, long windowMs) => Math.DivRem(nowMs, windowMs).Quotient;

    public static long WindowStartMs(long window, long windowMs) => window * windowMs;

    public static long FixedAvailable(long limit, long count) => Math.Max(0, limit - count);

    /// <summary>
    /// The weighted two-window estimate: the previous window counts in proportion to the part of it a window ending
    /// now still covers. Permits still available under it.
    /// </summary>
    public static long SlidingAvailable(long limit, long previous, long current, long nowMs, long window, long windowMs)
    {
        var elapsed = Math.Clamp(nowMs - WindowStartMs(window, windowMs), 0, windowMs);
        var weight = 1.0 - ((double)elapsed / windowMs);
        var available = limit - (previous * weight) - current;
        return Math.Max(0, (long)Math.Floor(available + Epsilon));
    }

    /// <summary>The earliest time at which one permit is available again under the sliding estimate (a lower bound: others may take more).</summary>
    public static long SlidingRetryAtMs(long limit, long previous, long current, long window, long windowMs)
    {
        var start = WindowStartMs(window, windowMs);
        if (current >= limit)
        {
            // Not in this window: in the next one, this window becomes the previous and fades.
            var fraction = current == 0 ? 0 : Math.Max(0, 1.0 - ((limit - 1.0) / current));
            return start + windowMs + CeilingMs(fraction * windowMs);
        }

        if (previous <= 0)
        {
            return start;
        }

        var needed = Math.Max(0, 1.0 - ((limit - current - 1.0) / previous));
        return start + CeilingMs(needed * windowMs);
    }

    /// <summary>A token bucket's level at <paramref name="nowMs"/>: refilled continuously, never above its size. Time never runs backwards for it.</summary>
    public static double TokensAt(double tokens, long updatedMs, long nowMs, double ratePerMs, long burst) =>
        Math.Min(burst, tokens + (ratePerMs * Math.Max(0, nowMs - updatedMs)));

    public static long TokensAvailable(double tokens) => Math.Max(0, (long)Math.Floor(tokens + Epsilon));

    /// <summary>When the bucket holds one whole token again.</summary>
    public static long TokenRetryAtMs(double tokensNow, long nowMs, double ratePerMs) =>
        nowMs + Math.Max(1, CeilingMs((1.0 - tokensNow) / ratePerMs));

    /// <summary>When the bucket is full again: after that its row means nothing and may be deleted.</summary>
    public static long TokenFullAtMs(double tokensNow, long nowMs, double ratePerMs, long burst) =>
        nowMs + Math.Max(0, CeilingMs((burst - tokensNow) / ratePerMs));

    /// <summary>Rounds up to whole milliseconds, forgiving float noise (18000.000000000004 is 18000).</summary>
    private static long CeilingMs(double milliseconds) => (long)Math.Ceiling(milliseconds - 1e-6);
}
