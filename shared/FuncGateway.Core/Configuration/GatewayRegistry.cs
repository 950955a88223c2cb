using System.Diagnostics;
using System.Runtime;
using System.Runtime.CompilerServices;
using FuncGateway.Diagnostics;
using FuncGateway.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

using FuncGateway.Model;

namespace FuncGateway.Configuration;

/// <summary>What the last registry read did, for the admin surface.</summary>
public sealed record RegistryStatus(
    DateTimeOffset? LastAttemptAt,
    DateTimeOffset? LastSuccessAt,
    string? LastError,
    long SnapshotVersion,
    DateTimeOffset? SnapshotLoadedAt);

/// <summary>
/// Holds the current <see cref="GatewaySnapshot"/> and replaces it after each successful read. Requests read one
/// volatile reference and never lock; reloads are serialized among themselves.
/// </summary>
internal sealed class GatewayRegistry : IDisposable
{
    private readonly IRegistryStore _store;
    private readonly SnapshotBuilder _builder;
    private readonly TimeProvider _time;
    private readonly ILogger<GatewayRegistry> _logger;
    private readonly RegistryOptions _options;
    private readonly SemaphoreSlim _reloadGate = new(1, 1);
    private readonly TaskCompletionSource _firstSnapshot = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile GatewaySnapshot? _current;
    private volatile RegistryStatus _status = new(null, null, null, 0, null);
    private readonly ISnapshotPublishedListener[] _listeners;
    private bool _tablesReady;
    private string? _lostTable;
    private long _version;
    private RegistryContent? _lastContent;

    public GatewayRegistry(
        IRegistryStore store, SnapshotBuilder builder, TimeProvider time, IOptions<GatewayOptions> options, ILogger<GatewayRegistry> logger,
        IEnumerable<ISnapshotPublishedListener>? listeners = null)
    {
        _listeners = [.. listeners ?? []];
        _store = store;
        _builder = builder;
        _time = time;
        _logger = logger;
        _options = options.Value.Registry;
        RetryAfter = Math.Max(1, (int)Math.Ceiling(_options.RefreshIntervalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// The <c>Retry-After</c> of a <c>503 no_configuration</c>: the refresh interval in whole seconds (at least 1), when
    /// the registry is next read.
    /// </summary>
    public string RetryAfter { get; }

    /// <summary>The snapshot requests are served from; null until the first successful read.</summary>
    public GatewaySnapshot? Current => _current;

    public RegistryStatus Status => _status;

    // When the storage read now in flight started (null when none is): a read that hangs until ReadTimeoutSeconds
    // leaves the last attempt's status in place, which would otherwise look like all is well.
    private volatile StrongBox<DateTimeOffset>? _readingSince;

    /// <summary>When the registry read now in progress started; null when no read is waiting for storage.</summary>
    public DateTimeOffset? ReadingSince => _readingSince?.Value;

    /// <summary>
    /// The current snapshot; before the first one exists (a cold start), waits up to the configured start-up wait
    /// for it, then gives null so the caller answers 503.
    /// </summary>
    public async ValueTask<GatewaySnapshot?> GetSnapshotAsync(CancellationToken cancellationToken)
    {
        var current = _current;
        if (current is not null || _options.StartupWaitSeconds <= 0)
        {
            return current;
        }

        try
        {
            await _firstSnapshot.Task.WaitAsync(TimeSpan.FromSeconds(_options.StartupWaitSeconds), _time, cancellationToken);
        }
        catch (TimeoutException)
        {
        }

        return _current;
    }

    /// <summary>
    /// Reads the registry and swaps in a new snapshot when anything changed (always, with <paramref name="force"/>).
    /// A failed read keeps the last good snapshot; the failure is recorded in <see cref="Status"/>.
    /// </summary>
    public async Task<RegistryStatus> ReloadAsync(bool force, CancellationToken cancellationToken)
    {
        await _reloadGate.WaitAsync(cancellationToken);
        try
        {
            var attemptAt = _time.GetUtcNow();
            RegistryContent content;
            _readingSince = new StrongBox<DateTimeOffset>(attemptAt);
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(TimeSpan.FromSeconds(_options.ReadTimeoutSeconds));
                if (!_tablesReady)
                {
                    // Not EnsureTablesAsync: a table this storage held before and lost must not come back empty.
                    await _store.EnsureTablesUnlessLostAsync(timeout.Token);
                    _tablesReady = true;
                }

                // A poll that finds nothing changed reads keys and ETags only, not every property of every row: on a
                // large registry, polled every few seconds on every instance, the full read is most of the bytes
                // moved and of the garbage left behind.
                if (!force && _current is { } known && await _store.ReadFingerprintAsync(timeout.Token) == known.Fingerprint)
                {
                    _lostTable = null;
                    Log.RegistryUnchanged(_logger, known.Fingerprint);
                    return _status = _status with { LastAttemptAt = attemptAt, LastSuccessAt = attemptAt, LastError = null };
                }

                content = await _store.ReadAllAsync(timeout.Token);
                _lostTable = null;
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                // Any failed read keeps the last good snapshot, like a failed build below: an exception escaping here
                // would end the loader (and with it the host) or turn an admin reload into a 500.
                string error;
                if (ex is OperationCanceledException)
                {
                    error = $"Storage did not answer within {_options.ReadTimeoutSeconds} s.";
                }
                else if (ex is RegistryStoreException or TimeoutException or IOException or HttpRequestException)
                {
                    error = ex.Message;
                    if (ex is RegistryStoreException { LostTable: { } lost } && lost != _lostTable)
                    {
                        // Once per loss, besides the failed read logged at every poll: the event to alert on.
                        Log.RegistryTableLost(_logger, lost);
                        _lostTable = lost;
                    }
                }
                else
                {
                    Log.RegistryReadFailedUnexpectedly(_logger, ex);
                    error = "Reading the registry failed unexpectedly: " + ex.GetType().Name;
                }

                return RecordFailure(attemptAt, error);
            }
            finally
            {
                _readingSince = null;
            }

            var current = _current;
            var fingerprint = SnapshotBuilder.Fingerprint(content);
            if (!force && current is not null && current.Fingerprint == fingerprint)
            {
                Log.RegistryUnchanged(_logger, fingerprint);
                return _status = _status with { LastAttemptAt = attemptAt, LastSuccessAt = attemptAt, LastError = null };
            }

            if (!TryBuild(content, fingerprint, attemptAt, out var snapshot, out var buildError))
            {
                return RecordFailure(attemptAt, buildError);
            }

            _lastContent = Array.Exists(_listeners, listener => listener.MayRebuild(snapshot)) ? content : null;
            Publish(current, snapshot);
            if (current is null && RowCount(content) >= CompactAfterFirstSnapshotRows)
            {
                var heapBefore = GC.GetTotalMemory(forceFullCollection: false);
                var started = Stopwatch.GetTimestamp();
                CompactHeap();
                Log.HeapCompacted(_logger, RowCount(content), heapBefore >> 20, GC.GetTotalMemory(forceFullCollection: false) >> 20, (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }

            return _status = new RegistryStatus(attemptAt, attemptAt, null, snapshot.Version, snapshot.LoadedAt);
        }
        finally
        {
            _reloadGate.Release();
        }
    }

    /// <summary>
    /// Builds a new snapshot from the rows of the last successful read, without reading storage: what changed is
    /// outside the tables (a discovery source's instance list). Nothing happens before the first read, nor when no
    /// listener said it may ask for this (<see cref="ISnapshotPublishedListener.MayRebuild"/>: the rows were not kept).
    /// </summary>
    public async Task RebuildAsync(CancellationToken cancellationToken)
    {
        await _reloadGate.WaitAsync(cancellationToken);
        try
        {
            if (_lastContent is not { } content || _current is not { } current)
            {
                return;
            }

            var now = _time.GetUtcNow();
            if (TryBuild(content, fingerprint: null, now, out var snapshot, out _))
            {
                Publish(current, snapshot);
                _status = _status with { SnapshotVersion = snapshot.Version, SnapshotLoadedAt = snapshot.LoadedAt };
            }
        }
        finally
        {
            _reloadGate.Release();
        }
    }

    /// <summary>
    /// The registry size from which the first snapshot is followed by a full, compacting collection: starting the
    /// host, reading thousands of rows and compiling them leaves tens of megabytes of dead objects in the oldest
    /// generation, which no collection under load reclaims for a long time (about 15 MiB of resident memory at
    /// 10,000 routes and 7–10 MiB at 1,000, bench/README.md). Below it the gain is small and not worth a pause, and
    /// test processes that start hundreds of small gateways are spared one each.
    /// </summary>
    internal const int CompactAfterFirstSnapshotRows = 1000;

    /// <summary>Compacts the heap and returns what it frees to the operating system; replaceable by tests.</summary>
    internal Action CompactHeap { get; init; } = static () =>
    {
        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
    };

    private static int RowCount(RegistryContent content) => content.Upstreams.Count + content.Routes.Count + content.Schemas.Count;

    private bool TryBuild(
        RegistryContent content, string? fingerprint, DateTimeOffset now, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out GatewaySnapshot? snapshot, out string error)
    {
        error = "";
        try
        {
            snapshot = _builder.Build(content, Interlocked.Increment(ref _version), now, fingerprint);
            return true;
        }
#pragma warning disable CA1031 // A bug in one build must not take the running gateway down: keep serving the last snapshot.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.SnapshotBuildFailed(_logger, ex);
            snapshot = null;
            error = "Building the snapshot failed: " + ex.GetType().Name;
            return false;
        }
    }

    private void Publish(GatewaySnapshot? previous, GatewaySnapshot snapshot)
    {
        LogRejections(previous, snapshot);
        _current = snapshot;
        _firstSnapshot.TrySetResult();
        Log.SnapshotLoaded(_logger, snapshot.Version, snapshot.Routes.Length, snapshot.Upstreams.Count, snapshot.Rejected.Length);
        foreach (var listener in _listeners)
        {
            listener.Published(snapshot);
        }
    }

    private RegistryStatus RecordFailure(DateTimeOffset attemptAt, string error)
    {
        var current = _current;
        if (current is null)
        {
            Log.RegistryReadFailedNoSnapshot(_logger, error);
        }
        else
        {
            Log.RegistryReadFailedKeepingSnapshot(_logger, current.Version, current.LoadedAt, error);
        }

        return _status = _status with { LastAttemptAt = attemptAt, LastError = error };
    }

    private void LogRejections(GatewaySnapshot? previous, GatewaySnapshot next)
    {
        // Log a rejected row when it first appears or its reasons change, not on every reload; likewise a served
        // row's warning (a route under the Functions host's reserved paths, on Kestrel).
        foreach (var (row, reason) in NewOrChanged(previous?.Rejected, next.Rejected))
        {
            Log.RowRejected(_logger, row.Table.ToString(), PrintableText.Of(row.PartitionKey), PrintableText.Of(row.RowKey), reason);
        }

        foreach (var (row, reason) in NewOrChanged(previous?.Warnings, next.Warnings))
        {
            Log.RowWarning(_logger, row.Table.ToString(), PrintableText.Of(row.PartitionKey), PrintableText.Of(row.RowKey), reason);
        }
    }

    /// <summary>The rows of <paramref name="next"/> that <paramref name="previous"/> did not list with the same reasons.</summary>
    private static IEnumerable<(RejectedRow Row, string Reason)> NewOrChanged(IEnumerable<RejectedRow>? previous, IEnumerable<RejectedRow> next)
    {
        var known = previous?.ToDictionary(r => (r.Table, r.PartitionKey, r.RowKey), r => string.Join(" ", r.Errors));
        foreach (var row in next)
        {
            var reason = string.Join(" ", row.Errors);
            if (known is null || !known.TryGetValue((row.Table, row.PartitionKey, row.RowKey), out var before) || before != reason)
            {
                yield return (row, reason);
            }
        }
    }

    public void Dispose() => _reloadGate.Dispose();
}
