namespace FuncGateway.RateLimiting;

/// <summary>
/// The fail-open limiter of one partition: the policy's algorithm in memory on this instance, with the limits
/// divided by the instance estimate, used only while the shared counters cannot be reached. What it admits is not
/// written back when storage returns.
/// </summary>
internal sealed class LocalFallbackLimiter(RateLimitLimits limits)
{
    private readonly Lock _gate = new();
    private readonly double _ratePerMs = (double)limits.FallbackLimit / limits.WindowMs;
    private long _window = long.MinValue;
    private long _count;
    private long _previous;
    private double _tokens = limits.FallbackBurst;
    private long _updatedMs = long.MinValue;

    /// <summary>True with the permits left, or false with the time one is available again.</summary>
    public bool TryAcquire(long permits, long nowMs, out long remaining, out long retryAtMs)
    {
        lock (_gate)
        {
            long available;
            retryAtMs = 0;
            if (limits.Algorithm == RateLimitAlgorithm.TokenBucket)
            {
                _tokens = _updatedMs == long.MinValue ? _tokens : CounterMath.TokensAt(_tokens, _updatedMs, nowMs, _ratePerMs, limits.FallbackBurst);
                _updatedMs = Math.Max(_updatedMs, nowMs);
                available = CounterMath.TokensAvailable(_tokens);
                if (available >= permits)
                {
                    _tokens -= permits;
                    remaining = available - permits;
                    return true;
                }

                remaining = 0;
                retryAtMs = CounterMath.TokenRetryAtMs(_tokens, nowMs, _ratePerMs);
                return false;
            }

            var window = CounterMath.WindowOf(nowMs, limits.WindowMs);
            if (window != _window)
            {
                _previous = window == _window + 1 ? _count : 0;
                _count = 0;
                _window = window;
            }

            available = limits.Algorithm == RateLimitAlgorithm.SlidingWindow
                ? CounterMath.SlidingAvailable(limits.FallbackLimit, _previous, _count, nowMs, window, limits.WindowMs)
                : CounterMath.FixedAvailable(limits.FallbackLimit, _count);
            if (available >= permits)
            {
                _count += permits;
                remaining = available - permits;
                return true;
            }

            remaining = 0;
            retryAtMs = limits.Algorithm == RateLimitAlgorithm.SlidingWindow
                ? Math.Max(nowMs + 1, CounterMath.SlidingRetryAtMs(limits.FallbackLimit, _previous, _count, window, limits.WindowMs))
                : CounterMath.WindowStartMs(window + 1, limits.WindowMs);
            return false;
        }
    }
}
