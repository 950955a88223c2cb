namespace FuncGateway.RateLimiting;

/// <summary>
/// One counter row (one shard of one partition of one policy) as this instance sees it.
/// </summary>
/// <remarks>
/// <para>
/// Permits are taken from the shared row <em>before</em> they are handed out, with an ETag-conditional write, so the
/// row never admits more than its limit whatever the number of instances. One fetch at a time per shard: requests
/// that arrive while it runs queue up and the next fetch takes all their permits in one write (so contention is
/// between instances, never between requests of one instance).
/// </para>
/// <para>
/// Strict mode takes exactly what the queued requests need. Fast mode also takes a slice sized to this instance's
/// observed rate (at most 1/(2 × InstanceEstimate) of what remains) and spends it locally, fetching the next slice in
/// the background when half of the last one is spent; at steady state a request costs no storage operation and a
/// slice costs one write. A window's slice is only spent in that window, and a token-bucket slice only for
/// LeaseSeconds, which is what bounds fast mode's error.
/// </para>
/// <para>
/// Once the row says the window is spent, the shard remembers until when, and rejects locally: a client hammering a
/// spent limit costs no storage operation.
/// </para>
/// <para>
/// Permits can be given back (a request that another policy of its route refused): in fast mode to the local slice;
/// in strict mode to a request waiting on this instance if there is one, else to the row, by the next conditional
/// write of the fetch loop (with the permits queued requests need, when there are some).
/// </para>
/// <para>
/// The shard owns the lock, the queue, the fetch loop and its storage round trips, and the modes; its
/// <see cref="CounterAlgorithm"/> owns the arithmetic: what the row looks like, what is left, when a window rolls,
/// when to retry, and when local permits lapse.
/// </para>
/// </remarks>
internal sealed class CounterShard
{
    /// <summary>Conditional writes tried before a batch gives up and gets the failure policy.</summary>
    public const int MaxAttempts = 10;

    private readonly RateLimitRuntime _runtime;
    private readonly RateLimitPolicy _policy;
    private readonly CounterAlgorithm _algorithm;
    private readonly string _partitionKey;
    private readonly string _displayKey;
    private readonly bool _fast;
    private readonly Lock _gate = new();
    private readonly Queue<Waiter> _waiters = new();
    private List<TaskCompletionSource>? _releases;

    // Request side, under _gate.
    private long _local;
    private long _exhaustedUntilMs;
    private long _rowRemaining = -1;
    private long _queuedPermits;
    private bool _fetching;
    private bool _prefetch;
    private long _arrivals;
    private long _lastFetchMs;
    private double _rate;
    private long _lastSlice;

    // Row knowledge: touched only by the one running fetch loop.
    private bool _rowKnown;
    private string? _etag;

    public CounterShard(RateLimitRuntime runtime, RateLimitPolicy policy, RateLimitLimits limits, string partitionKey, string displayKey, int shard)
    {
        _runtime = runtime;
        _policy = policy;
        _algorithm = CounterAlgorithm.Create(policy, limits, shard);
        _partitionKey = partitionKey;
        _displayKey = displayKey;
        _fast = policy.Mode == RateLimitMode.Fast;
    }

    /// <summary>Permits leased and not spent yet.</summary>
    public long LocalPermits
    {
        get
        {
            lock (_gate)
            {
                return _local;
            }
        }
    }

    public long QueuedPermits
    {
        get
        {
            lock (_gate)
            {
                return _queuedPermits;
            }
        }
    }

    /// <summary>Whether a fetch runs or requests wait: the partition must not be dropped from memory.</summary>
    public bool IsBusy
    {
        get
        {
            lock (_gate)
            {
                return _fetching || _queuedPermits > 0;
            }
        }
    }

    /// <summary>What this instance believes is left in the row, plus what it holds locally; -1 when it knows nothing yet.</summary>
    public long KnownRemaining
    {
        get
        {
            lock (_gate)
            {
                return _rowRemaining < 0 ? -1 : _rowRemaining + _local;
            }
        }
    }

    /// <summary>Until when the row is known to be spent (0: not known to be).</summary>
    public bool IsKnownExhausted(long nowMs, out long retryAtMs)
    {
        lock (_gate)
        {
            Roll(nowMs);
            retryAtMs = _exhaustedUntilMs;
            return _local == 0 && nowMs < _exhaustedUntilMs;
        }
    }

    /// <summary>Decides from what this instance holds, without I/O and without starting any.</summary>
    public ShardResult TryAcquireLocal(long permits, long nowMs)
    {
        lock (_gate)
        {
            Roll(nowMs);
            if (_local >= permits)
            {
                var stamp = Spend(permits);
                _arrivals += permits;
                return ShardResult.AcquiredFrom(stamp);
            }

            return nowMs < _exhaustedUntilMs ? ShardResult.RejectedUntil(_exhaustedUntilMs) : ShardResult.NeedsStorage;
        }
    }

    /// <summary>Acquires from local permits, or waits for a fetch from the shared row.</summary>
    public ValueTask<ShardResult> AcquireAsync(long permits, CancellationToken cancellationToken)
    {
        Waiter? waiter = null;
        var start = false;
        ShardResult result;
        lock (_gate)
        {
            var now = _runtime.NowMs;
            Roll(now);
            _arrivals += permits;
            if (_local >= permits)
            {
                var stamp = Spend(permits);
                start = WantsPrefetch(now);
                result = ShardResult.AcquiredFrom(stamp);
            }
            else if (now < _exhaustedUntilMs)
            {
                result = ShardResult.RejectedUntil(_exhaustedUntilMs);
            }
            else if (_runtime.Health.IsOpen(now))
            {
                result = ShardResult.Unavailable;
            }
            else
            {
                cancellationToken.ThrowIfCancellationRequested();
                waiter = new Waiter(this, permits);
                _waiters.Enqueue(waiter);
                _queuedPermits += permits;
                result = default;
                if (!_fetching)
                {
                    _fetching = true;
                    start = true;
                }
            }
        }

        if (start)
        {
            _ = FetchLoopAsync();
        }

        return waiter is null ? ValueTask.FromResult(result) : waiter.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// Gives back permits taken with <paramref name="stamp"/> (from <see cref="ShardResult.Stamp"/>): permits of a window
    /// that has ended, or of a token slice that has expired, are dropped, as they would have been unspent. Fast mode
    /// puts them back in the local slice. Strict mode hands them to a request waiting here, else writes them back to the
    /// row; the task completes when that write is done (or failed: then the row keeps counting them, which errs on the
    /// safe side).
    /// </summary>
    public ValueTask ReleaseAsync(long permits, long stamp)
    {
        TaskCompletionSource written;
        var start = false;
        lock (_gate)
        {
            var now = _runtime.NowMs;
            Roll(now);
            if (permits <= 0 || !_algorithm.TryReturn(permits, stamp, now, intoSlice: _fast))
            {
                return ValueTask.CompletedTask;
            }

            _local += permits;
            ServeFromLocal();
            if (_fast || _local == 0)
            {
                return ValueTask.CompletedTask;
            }

            written = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            (_releases ??= []).Add(written);
            if (!_fetching)
            {
                _fetching = true;
                start = true;
            }
        }

        if (start)
        {
            _ = FetchLoopAsync();
        }

        return new ValueTask(written.Task);
    }

    /// <summary>Fast mode: once half of the last slice is spent, fetch the next one before anybody has to wait.</summary>
    private bool WantsPrefetch(long nowMs)
    {
        if (!_fast || _fetching || _local * 2 > _lastSlice || nowMs < _exhaustedUntilMs || _runtime.Health.IsOpen(nowMs))
        {
            return false;
        }

        _prefetch = true;
        _fetching = true;
        return true;
    }

    /// <summary>Moves to the current window; a slice leased for an earlier window (or an expired token lease) is dropped unspent.</summary>
    private void Roll(long nowMs)
    {
        if (_algorithm.Roll(nowMs))
        {
            _local = 0;
            _lastSlice = 0;
            _rowRemaining = -1;
        }
        else if (_local > 0)
        {
            _local -= _algorithm.DropExpired(nowMs);
        }
    }

    /// <summary>Takes permits from the local slice (token leases: oldest first); returns their stamp. Under _gate.</summary>
    private long Spend(long permits)
    {
        _local -= permits;
        return _algorithm.Spend(permits);
    }

    private async Task FetchLoopAsync()
    {
        try
        {
            while (true)
            {
                long demand;
                long extra;
                long period;
                long give = 0;
                List<TaskCompletionSource>? releases;
                lock (_gate)
                {
                    var now = _runtime.NowMs;
                    Roll(now);
                    ServeFromLocal();
                    demand = _queuedPermits;

                    // Strict mode: permits given back (or left by a cancelled request) that nobody here took go back to
                    // the row with this write. Waiters on a release whose permits a request took are done already.
                    releases = _releases;
                    _releases = null;
                    if (!_fast && _local > 0)
                    {
                        give = _local;
                        _local = 0;
                        _algorithm.Clear();
                    }

                    if (give == 0)
                    {
                        Complete(releases);
                        releases = null;
                    }

                    extra = _fast && (demand > 0 || _prefetch) ? NextSliceSize(now) : 0;
                    if (demand == 0 && extra == 0 && give == 0)
                    {
                        _prefetch = false;
                        _fetching = false;
                        return;
                    }

                    if (now < _exhaustedUntilMs && give == 0)
                    {
                        RejectAll(_exhaustedUntilMs);
                        _prefetch = false;
                        _fetching = false;
                        return;
                    }

                    if (_runtime.Health.IsOpen(now))
                    {
                        // Storage is known to be down: returned permits stay counted (the safe side).
                        Complete(releases);
                        FailAll();
                        _prefetch = false;
                        _fetching = false;
                        return;
                    }

                    // After an outage's back-off this may be the one request that tries storage again.
                    _runtime.Health.BeginAttempt(now);
                    _prefetch = false;
                    period = _algorithm.Period;
                }

                Taken taken;
                try
                {
                    taken = await TakeAsync(period, demand, extra, give);
                    _runtime.Health.ReportSuccess();
                }
                catch (RateLimitStoreException ex)
                {
                    _rowKnown = false;
                    _runtime.Health.ReportFailure(ex.Message);
                    FailAllLocked();
                    continue;
                }
                catch (OperationCanceledException)
                {
                    _rowKnown = false;
                    _runtime.Health.ReportFailure($"A counter operation took longer than {_runtime.OperationTimeout.TotalSeconds} s.");
                    FailAllLocked();
                    continue;
                }
                catch (ContentionException)
                {
                    _rowKnown = false;
                    RateLimitLog.ContentionExhausted(_runtime.Logger, _policy.Name, MaxAttempts);
                    FailAllLocked();
                    continue;
                }
                finally
                {
                    Complete(releases);
                }

                lock (_gate)
                {
                    var now = _runtime.NowMs;
                    Roll(now);
                    if (_algorithm.Period == period)
                    {
                        if (give > 0 && taken.RowRemaining > 0)
                        {
                            // The row has room again: stop refusing locally on what was known before the release.
                            _exhaustedUntilMs = 0;
                        }

                        // Permits of a window that has ended are left unspent: spending them now would count them nowhere.
                        _local += taken.Granted;
                        _lastSlice = taken.Granted;
                        _algorithm.Hold(taken.Granted, now);

                        _rowRemaining = taken.RowRemaining;
                        if (taken.ExhaustedUntilMs > 0)
                        {
                            _exhaustedUntilMs = Math.Max(_exhaustedUntilMs, taken.ExhaustedUntilMs);
                        }
                    }

                    ServeFromLocal();
                    if (_queuedPermits > 0 && now < _exhaustedUntilMs)
                    {
                        RejectAll(_exhaustedUntilMs);
                    }
                }
            }
        }
#pragma warning disable CA1031 // A bug here must not leave requests waiting forever: they get the failure policy.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            RateLimitLog.CounterFailed(_runtime.Logger, _policy.Name, ex);
            _rowKnown = false;
            lock (_gate)
            {
                Complete(_releases);
                _releases = null;
                FailAll();
                _prefetch = false;
                _fetching = false;
            }
        }
    }

    /// <summary>Fast mode: the extra permits to lease beyond the queued demand, from this instance's smoothed arrival rate.</summary>
    private long NextSliceSize(long nowMs)
    {
        if (_lastFetchMs > 0)
        {
            var elapsed = Math.Max(1, nowMs - _lastFetchMs);
            var observed = _arrivals * 1000.0 / elapsed;
            _rate = _rate <= 0 ? observed : (_rate + observed) / 2;
        }

        _arrivals = 0;
        _lastFetchMs = nowMs;
        return (long)Math.Ceiling(_rate * _policy.LeaseSeconds);
    }

    /// <summary>
    /// One conditional write: takes up to <paramref name="demand"/> permits (plus <paramref name="extra"/> for a fast
    /// slice) from the row and gives <paramref name="give"/> back to it, retrying on conflicts.
    /// </summary>
    private async Task<Taken> TakeAsync(long period, long demand, long extra, long give)
    {
        var store = _runtime.Store;
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            using var timeout = new CancellationTokenSource(_runtime.OperationTimeout, _runtime.Time);
            var ct = timeout.Token;
            if (!_rowKnown || _algorithm.MustRead(period))
            {
                var row = await store.ReadAsync(Address(period), ct);
                _rowKnown = true;
                _etag = row?.ETag;
                _algorithm.Load(row, period, _runtime.NowMs);
            }

            if (_algorithm.NeedsPriorRow(period, out var prior))
            {
                _algorithm.LoadPriorRow(await store.ReadAsync(Address(prior), ct), prior);
            }

            var now = _runtime.NowMs;
            if (!_algorithm.Covers(period, now))
            {
                // The window ended meanwhile, or the storage clock the read just brought says it is another one:
                // decide again in the right window's row (the loop rolls over). Permits being given back lapse.
                return new Taken(0, -1, 0);
            }

            var available = _algorithm.Available(period, now, give);
            var take = Math.Min(demand, available);
            var spare = available - take;
            if (extra > 0 && spare > 0)
            {
                take += Math.Min(extra, spare / (2L * _policy.InstanceEstimate));
            }

            if (take == 0 && give == 0)
            {
                return new Taken(0, available, available == 0 || demand > 0 ? _algorithm.RetryAtMs(period, now) : 0);
            }

            var write = _algorithm.Write(period, now, give, take, _policy.StorageName, _displayKey);
            var etag = await store.TryWriteAsync(Address(period), write, _etag, ct);
            if (etag is not null)
            {
                _etag = etag;
                _algorithm.Commit(write);
                var left = available - take;
                return new Taken(take, left, take < demand || left == 0 ? _algorithm.RetryAtMs(period, now) : 0);
            }

            // Another instance wrote first (412), or created the row first (409): read it again and retry.
            _rowKnown = false;
            await _runtime.JitterAsync(attempt, ct);
        }

        throw new ContentionException();
    }

    private CounterAddress Address(long period) => new(_partitionKey, _algorithm.RowKey(period));

    /// <summary>Hands local permits to queued requests, first come first served. Under _gate.</summary>
    private void ServeFromLocal()
    {
        while (_waiters.TryPeek(out var head))
        {
            if (head.IsCancelled)
            {
                _waiters.Dequeue();
                continue;
            }

            if (_local < head.Permits)
            {
                return;
            }

            _waiters.Dequeue();
            var stamp = Spend(head.Permits);
            _queuedPermits -= head.Permits;
            head.Complete(ShardResult.AcquiredFrom(stamp));
        }
    }

    private static void Complete(List<TaskCompletionSource>? releases)
    {
        foreach (var release in releases ?? [])
        {
            release.TrySetResult();
        }
    }

    /// <summary>Under _gate.</summary>
    private void RejectAll(long retryAtMs)
    {
        var result = ShardResult.RejectedUntil(retryAtMs);
        while (_waiters.TryDequeue(out var waiter))
        {
            if (!waiter.IsCancelled)
            {
                _queuedPermits -= waiter.Permits;
                waiter.Complete(result);
            }
        }
    }

    /// <summary>Under _gate.</summary>
    private void FailAll()
    {
        while (_waiters.TryDequeue(out var waiter))
        {
            if (!waiter.IsCancelled)
            {
                _queuedPermits -= waiter.Permits;
                waiter.Complete(ShardResult.Unavailable);
            }
        }
    }

    private void FailAllLocked()
    {
        lock (_gate)
        {
            FailAll();
        }
    }

    private void Cancel(Waiter waiter)
    {
        lock (_gate)
        {
            if (waiter.TryCancel())
            {
                _queuedPermits -= waiter.Permits;
            }
        }
    }

    private readonly record struct Taken(long Granted, long RowRemaining, long ExhaustedUntilMs);

    private sealed class ContentionException : Exception;

    /// <summary>A request waiting for the next fetch. Completed under the shard's lock, continued asynchronously.</summary>
    private sealed class Waiter(CounterShard owner, long permits)
    {
        private readonly TaskCompletionSource<ShardResult> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private bool _cancelled;

        public long Permits => permits;

        public bool IsCancelled => _cancelled;

        public void Complete(ShardResult result) => _completion.TrySetResult(result);

        /// <summary>Under the owner's lock: true when the waiter was still queued and is now cancelled.</summary>
        public bool TryCancel()
        {
            if (_cancelled || _completion.Task.IsCompleted)
            {
                return false;
            }

            _cancelled = true;
            return true;
        }

        public async ValueTask<ShardResult> WaitAsync(CancellationToken cancellationToken)
        {
            if (!cancellationToken.CanBeCanceled)
            {
                return await _completion.Task;
            }

            using (cancellationToken.UnsafeRegister(static (state, token) =>
            {
                var waiter = (Waiter)state!;
                waiter.Cancel(token);
            }, this))
            {
                return await _completion.Task;
            }
        }

        private void Cancel(CancellationToken token)
        {
            owner.Cancel(this);
            if (_cancelled)
            {
                _completion.TrySetCanceled(token);
            }
        }
    }
}
