using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FuncGateway.RateLimiting;

/// <summary>What every limiter of this instance shares: the counter store, the clock, storage health and settings.</summary>
internal sealed class RateLimitRuntime
{
    public RateLimitRuntime(
        IRateLimitStore store, TimeProvider time, IOptions<RateLimitOptions> options, ILogger<RateLimitRuntime> logger, CounterKeyHasher keyHasher, StorageClock? clock = null, Random? random = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(keyHasher);
        Store = store;
        Clock = clock ?? new StorageClock(time, logger);
        KeyHasher = keyHasher;
        Time = time;
        Options = options.Value;
        Logger = logger;
        // Random.Shared is thread-safe without a lock; an injected one (tests) is used under a lock.
        Random = random ?? Random.Shared;
        InstanceSeed = Random.Next();
        OperationTimeout = TimeSpan.FromSeconds(Options.OperationTimeoutSeconds);
        Health = new RateLimitStoreHealth(this, TimeSpan.FromSeconds(Options.OutageBackoffSeconds));
    }

    public IRateLimitStore Store { get; }

    /// <summary>Keys counter rows by a keyed hash of the partition key.</summary>
    public CounterKeyHasher KeyHasher { get; }

    /// <summary>Timeouts and back-offs (durations); window arithmetic uses <see cref="Clock"/>.</summary>
    public TimeProvider Time { get; }

    /// <summary>The storage service's clock, which every instance shares: windows, buckets and retry times follow it.</summary>
    public StorageClock Clock { get; }

    public RateLimitOptions Options { get; }

    public ILogger Logger { get; }

    /// <summary>Jitter for retries. Not security-relevant.</summary>
    public Random Random { get; }

    /// <summary>Spreads instances over a counter's shards: each starts at a different one.</summary>
    public int InstanceSeed { get; }

    public TimeSpan OperationTimeout { get; }

    public RateLimitStoreHealth Health { get; }

    /// <summary>Now on the shared (storage) clock, Unix milliseconds.</summary>
    public long NowMs => Clock.NowMs;

    /// <summary>A bounded, jittered pause before retrying after a conflict: 0–2, 0–4, ... up to 0–50 ms.</summary>
    public Task JitterAsync(int attempt, CancellationToken cancellationToken)
    {
        int max;
        var bound = Math.Min(50, 2 << Math.Min(attempt, 5)) + 1;
#pragma warning disable CA5394 // Jitter, not security.
        if (ReferenceEquals(Random, Random.Shared))
        {
            max = Random.Next(0, bound);
        }
        else
        {
            lock (Random)
            {
                max = Random.Next(0, bound);
            }
        }
#pragma warning restore CA5394

        // Real time on purpose: a back-off between two storage calls is not part of any window's arithmetic, and a
        // test clock that only moves when told would stall it.
        return max == 0 ? Task.CompletedTask : Task.Delay(TimeSpan.FromMilliseconds(max), cancellationToken);
    }
}

/// <summary>
/// A circuit over the counter store: after a failure, requests skip storage (and go to their policy's failure
/// policy) for the outage back-off, instead of each waiting out a timeout; then one fetch tries again (half-open:
/// while it is under way, every other counter still applies its failure policy), and its answer closes the circuit or
/// opens it for another back-off.
/// </summary>
internal sealed class RateLimitStoreHealth(RateLimitRuntime runtime, TimeSpan backoff)
{
    private long _openUntilMs;
    private int _failing;

    // When the half-open attempt began (runtime milliseconds), 0 when none is under way.
    private long _probeStartedMs;

    public TimeSpan Backoff => backoff;

    /// <summary>Storage is to be skipped: within the back-off, or another counter is trying it after one.</summary>
    public bool IsOpen(long nowMs)
    {
        if (nowMs < Volatile.Read(ref _openUntilMs))
        {
            return true;
        }

        // An attempt that never reported (its request went away first) blocks the others for one back-off at most.
        var probe = Volatile.Read(ref _probeStartedMs);
        return Volatile.Read(ref _failing) == 1 && probe != 0 && nowMs - probe < (long)backoff.TotalMilliseconds;
    }

    /// <summary>A counter is about to call storage: after an outage, it is the half-open attempt.</summary>
    public void BeginAttempt(long nowMs)
    {
        if (Volatile.Read(ref _failing) == 1)
        {
            Interlocked.CompareExchange(ref _probeStartedMs, Math.Max(nowMs, 1), 0);
        }
    }

    public void ReportFailure(string error)
    {
        Volatile.Write(ref _openUntilMs, runtime.NowMs + (long)backoff.TotalMilliseconds);
        Volatile.Write(ref _probeStartedMs, 0);
        if (Interlocked.Exchange(ref _failing, 1) == 0)
        {
            RateLimitLog.StorageFailed(runtime.Logger, backoff.TotalSeconds, error);
        }
    }

    public void ReportSuccess()
    {
        if (Volatile.Read(ref _failing) == 1 && Interlocked.Exchange(ref _failing, 0) == 1)
        {
            Volatile.Write(ref _probeStartedMs, 0);
            RateLimitLog.StorageRecovered(runtime.Logger);
        }
    }
}
