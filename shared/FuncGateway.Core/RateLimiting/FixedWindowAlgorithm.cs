namespace FuncGateway.RateLimiting;

/// <summary>
/// <see cref="RateLimitAlgorithm.FixedWindow"/>: the limit per window, counted in the window's row alone; a spent
/// window has a permit again when the next one starts.
/// </summary>
internal sealed class FixedWindowAlgorithm(RateLimitLimits limits, int shard) : WindowAlgorithm(limits, shard)
{
    protected override int RowLifetimeWindows => 1;

    public override long RetryAtMs(long period, long nowMs) => CounterMath.WindowStartMs(period + 1, WindowMs);

    protected override long Left(long counted, long period, long nowMs) => CounterMath.FixedAvailable(Limit, counted);
}
