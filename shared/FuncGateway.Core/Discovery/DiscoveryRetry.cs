namespace FuncGateway.Discovery;

/// <summary>
/// A source's outage state: exponential backoff between failed attempts (1 s, 2 s, 4 s … at most 30 s, on the
/// injected <see cref="TimeProvider"/>) and the transitions a source logs exactly once: the first failure of an
/// outage and the first success after it. It is also the source's <see cref="IDiscoverySourceStatus"/>: the last
/// failure's reason and time, cleared on success, for the admin surface's <c>stale</c> state.
/// </summary>
internal sealed class DiscoveryRetry(TimeProvider time) : IDiscoverySourceStatus
{
    /// <summary>The delay after the first failure.</summary>
    public static readonly TimeSpan InitialDelay = TimeSpan.FromSeconds(1);

    /// <summary>The longest delay between two attempts.</summary>
    public static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(30);

    private int _failures;
    private volatile StatusSnapshot _status = new(null, null);

    /// <summary>Failed attempts since the last success.</summary>
    public int Failures => _failures;

    public string? LastError => _status.Error;

    public DateTimeOffset? LastErrorAt => _status.At;

    /// <summary>Counts a failed attempt and records <paramref name="reason"/>; true when it starts an outage (the one to log).</summary>
    public bool Fail(string reason)
    {
        _status = new(reason, time.GetUtcNow());
        return ++_failures == 1;
    }

    /// <summary>Counts a successful attempt; true when it ends an outage (the one to log).</summary>
    public bool Succeed()
    {
        var wasFailing = _failures > 0;
        _failures = 0;
        _status = new(null, null);
        return wasFailing;
    }

    /// <summary>The delay before the next attempt after <see cref="Failures"/> failures in a row.</summary>
    public TimeSpan NextDelay()
    {
        if (_failures <= 0)
        {
            return TimeSpan.Zero;
        }

        var doublings = Math.Min(_failures - 1, 16);
        var delay = InitialDelay * (1L << doublings);
        return delay < MaxDelay ? delay : MaxDelay;
    }

    /// <summary>Waits <see cref="NextDelay"/>; false when <paramref name="cancellationToken"/> ended the wait.</summary>
    public async Task<bool> DelayAsync(CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(NextDelay(), time, cancellationToken);
            return true;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    private sealed record StatusSnapshot(string? Error, DateTimeOffset? At);
}
