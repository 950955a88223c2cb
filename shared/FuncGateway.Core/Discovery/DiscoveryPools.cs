using System.Collections.Frozen;
using System.Collections.Immutable;
using System.Threading.Channels;
using FuncGateway.Configuration;
using FuncGateway.Model;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FuncGateway.Discovery;

/// <summary>
/// The discovery sources of the current pools and their last instance lists. A snapshot build attaches each pool
/// with a <c>Discovery</c> property (creating its source when the pool or its specification is new); when the
/// snapshot is published, sources of new pools start and sources no pool uses any more are disposed. A source's new
/// list is checked (URL, <c>AllowedUpstreams</c>, weight) and, when it differs, asks for a rebuild
/// (<see cref="Changes"/>), so the pool's instances change with the next snapshot.
/// </summary>
internal sealed class DiscoveryPools : ISnapshotPublishedListener, IAsyncDisposable, IDisposable
{
    private readonly FrozenDictionary<string, IDiscoverySourceFactory> _factories;
    private readonly UpstreamAllowlist _allowlist;
    private readonly TimeProvider _time;
    private readonly ILogger<DiscoveryPools> _logger;
    private readonly int _maxInstances;
    private readonly Lock _lock = new();
    private readonly Dictionary<(string Pool, string Specification), DiscoveryEntry> _entries = [];
    private readonly CancellationTokenSource _stopping = new();
    private readonly Channel<bool> _changes = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    /// <summary>Most skipped instances kept (and logged) per list: a source full of bad entries must not grow the admin view or the log without bound.</summary>
    internal const int MaxSkippedShown = 100;

    public DiscoveryPools(
        IEnumerable<IDiscoverySourceFactory> factories, UpstreamAllowlist allowlist, TimeProvider time, ILogger<DiscoveryPools> logger, IOptions<DiscoveryOptions> options)
    {
        _maxInstances = options.Value.MaxInstancesPerPool;
        var byKind = new Dictionary<string, IDiscoverySourceFactory>(StringComparer.OrdinalIgnoreCase);
        foreach (var factory in factories)
        {
            // The last registration of a kind wins, as with other named services.
            byKind[factory.Kind] = factory;
        }

        _factories = byKind.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
        _allowlist = allowlist;
        _time = time;
        _logger = logger;
    }

    /// <summary>The registered kinds, sorted.</summary>
    public IEnumerable<string> Kinds => _factories.Keys.Order(StringComparer.Ordinal);

    /// <summary>Signalled (coalesced) when a pool's discovered list changed: the current snapshot should be rebuilt.</summary>
    public ChannelReader<bool> Changes => _changes.Reader;

    /// <summary>
    /// The pool's discovery as of this build: its entry (reused while the pool and its specification stay the same)
    /// and the entry's current list. Null (with errors) for an unknown kind or a specification its factory refuses.
    /// </summary>
    public PoolDiscovery? Attach(string pool, DiscoverySpecification specification, List<string> errors)
    {
        if (!_factories.TryGetValue(specification.Kind, out var factory))
        {
            errors.Add($"Discovery: unknown Source '{PrintableText.Of(specification.Kind)}'. Known: {string.Join(", ", Kinds)}.");
            return null;
        }

        lock (_lock)
        {
            if (!_entries.TryGetValue((pool, specification.Text), out var entry))
            {
                var before = errors.Count;
                var source = factory.Create(pool, specification.Json, errors);
                if (source is null || errors.Count > before)
                {
                    if (errors.Count == before)
                    {
                        errors.Add($"Discovery ({factory.Kind}): the source refused the specification.");
                    }

                    if (source is not null)
                    {
                        _ = source.DisposeAsync().AsTask();
                    }

                    return null;
                }

                entry = new DiscoveryEntry(pool, factory.Kind, specification, source);
                _entries[(pool, specification.Text)] = entry;
            }

            return new PoolDiscovery(entry, entry.Instances);
        }
    }

    /// <summary>A snapshot with a discovered pool is rebuilt when the pool's list changes.</summary>
    public bool MayRebuild(GatewaySnapshot snapshot)
    {
        foreach (var pool in snapshot.Upstreams.Values)
        {
            if (pool.GetFeature<PoolDiscovery>() is not null)
            {
                return true;
            }
        }

        return false;
    }

    public void Published(GatewaySnapshot snapshot)
    {
        var used = new HashSet<DiscoveryEntry>();
        foreach (var pool in snapshot.Upstreams.Values)
        {
            if (pool.GetFeature<PoolDiscovery>() is { } discovery)
            {
                used.Add(discovery.Entry);
            }
        }

        lock (_lock)
        {
            foreach (var (key, entry) in _entries.ToList())
            {
                if (!used.Contains(entry))
                {
                    _entries.Remove(key);
                    _ = StopAsync(entry);
                }
                else if (entry.Watch is null && !_stopping.IsCancellationRequested)
                {
                    entry.Cancellation = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
                    entry.Watch = Task.Run(() => WatchAsync(entry));
                }
            }
        }
    }

    private async Task WatchAsync(DiscoveryEntry entry)
    {
        var token = entry.Cancellation!.Token;
        try
        {
            await entry.Source.WatchAsync(list => Update(entry, list), token);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
#pragma warning disable CA1031 // A broken source must not take the gateway down; its last list stays.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            DiscoveryLog.SourceFailed(_logger, entry.Pool, entry.Kind, ex);
            entry.Failure = ex.GetType().Name + ": " + ex.Message;
        }
    }

    /// <summary>A source's new list: checked, compared with the last, and a rebuild asked for when it differs.</summary>
    private ValueTask Update(DiscoveryEntry entry, IReadOnlyList<DiscoveredInstance> list)
    {
        var instances = new SortedDictionary<string, SuppliedInstance>(StringComparer.OrdinalIgnoreCase);
        var skipped = ImmutableArray.CreateBuilder<SkippedInstance>();
        var notShown = 0;
        foreach (var item in list ?? [])
        {
            var reason = Check(item, out var url);
            if (reason is null && !instances.ContainsKey(url))
            {
                instances[url] = new SuppliedInstance(url, item.Weight, item.Priority);
            }
            else if (reason is not null && skipped.Count < MaxSkippedShown)
            {
                skipped.Add(new SkippedInstance(PrintableText.Of(item?.Url ?? ""), reason));
            }
            else if (reason is not null)
            {
                notShown++;
            }
        }

        // A bound on what one source can make every gateway instance hold and balance over (a registration key holder
        // registering without end, a DNS answer of thousands): the first instances by URL, the same on every instance.
        var next = ImmutableArray.CreateRange(instances.Count <= _maxInstances ? instances.Values : instances.Values.Take(_maxInstances));
        if (instances.Count > _maxInstances)
        {
            skipped.Insert(0, new SkippedInstance(
                "…", $"{instances.Count - _maxInstances} of {instances.Count} instances left out: a pool takes at most {_maxInstances} from its source (FuncGateway:Discovery:MaxInstancesPerPool); kept the first by URL."));
        }

        if (notShown > 0)
        {
            skipped.Add(new SkippedInstance("…", $"{notShown} more skipped instances not listed (at most {MaxSkippedShown} are)."));
        }

        var now = _time.GetUtcNow();
        var skippedNow = skipped.ToImmutable();
        lock (_lock)
        {
            entry.LastRefreshedAt = now;
            foreach (var item in skippedNow.Where(s => !entry.Skipped.Contains(s)))
            {
                DiscoveryLog.InstanceSkipped(_logger, entry.Pool, entry.Kind, item.Url, item.Reason);
            }

            entry.Skipped = skippedNow;
            if (entry.Instances is { IsDefault: false } current && current.SequenceEqual(next))
            {
                return ValueTask.CompletedTask;
            }

            entry.Instances = next;
            entry.LastChangedAt = now;
        }

        DiscoveryLog.InstancesChanged(_logger, entry.Pool, entry.Kind, next.Length);
        _changes.Writer.TryWrite(true);
        return ValueTask.CompletedTask;
    }

    private string? Check(DiscoveredInstance? item, out string url)
    {
        url = "";
        if (item is null)
        {
            return "null instance.";
        }

        if (!SnapshotBuilder.TryNormalizeUpstreamUrl(item.Url, out url, out var error))
        {
            return error;
        }

        if (item.Weight is < 1 or > 1000)
        {
            return $"weight {item.Weight} is outside 1–1000.";
        }

        if (item.Priority is < 0 or > ushort.MaxValue)
        {
            return $"priority {item.Priority} is outside 0–65535.";
        }

        return _allowlist.Check(url);
    }

    private async Task StopAsync(DiscoveryEntry entry)
    {
        try
        {
            if (entry.Cancellation is { } cancellation)
            {
                await cancellation.CancelAsync();
            }

            if (entry.Watch is { } watch)
            {
                await watch;
            }

            await entry.Source.DisposeAsync();
            entry.Cancellation?.Dispose();
        }
#pragma warning disable CA1031 // Disposing one source must not stop the others.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            DiscoveryLog.DisposeFailed(_logger, entry.Pool, entry.Kind, ex);
        }
    }

    /// <summary>Stops every source without waiting for them (a container disposed synchronously).</summary>
    public void Dispose() => _ = DisposeAsync().AsTask();

    /// <summary>Stops every source (the host is stopping).</summary>
    public async ValueTask DisposeAsync()
    {
        List<DiscoveryEntry> entries;
        lock (_lock)
        {
            if (_stopping.IsCancellationRequested)
            {
                return;
            }

            _stopping.Cancel();
            entries = [.. _entries.Values];
            _entries.Clear();
        }

        await Task.WhenAll(entries.Select(StopAsync));
        _stopping.Dispose();
    }
}

/// <summary>One pool's source and what it last found. Mutable state changes under <see cref="DiscoveryPools"/>' lock.</summary>
internal sealed class DiscoveryEntry(string pool, string kind, DiscoverySpecification specification, IDiscoverySource source)
{
    public string Pool { get; } = pool;

    public string Kind { get; } = kind;

    public DiscoverySpecification Specification { get; } = specification;

    public IDiscoverySource Source { get; } = source;

    /// <summary>The last checked list, or default before the source first published one.</summary>
    public ImmutableArray<SuppliedInstance> Instances { get; set; }

    public ImmutableArray<SkippedInstance> Skipped { get; set; } = [];

    public DateTimeOffset? LastRefreshedAt { get; set; }

    public DateTimeOffset? LastChangedAt { get; set; }

    /// <summary>Why the source stopped, when it threw (a bug in it).</summary>
    public string? Failure { get; set; }

    public CancellationTokenSource? Cancellation { get; set; }

    public Task? Watch { get; set; }
}

/// <summary>A discovered instance the gateway does not use, and why.</summary>
internal sealed record SkippedInstance(string Url, string Reason);

/// <summary>
/// A pool's discovery as compiled into one snapshot: the entry (its live status, for the admin surface) and the list
/// the snapshot's pool was built with.
/// </summary>
internal sealed class PoolDiscovery(DiscoveryEntry entry, ImmutableArray<SuppliedInstance> instances) : IPoolInstanceSupplier
{
    public DiscoveryEntry Entry { get; } = entry;

    public IReadOnlyList<SuppliedInstance> Instances { get; } = instances.IsDefault ? [] : instances;

    /// <summary>What the admin surface shows for the pool.</summary>
    public object Describe()
    {
        var entry = Entry;
        var status = entry.Source as IDiscoverySourceStatus;
        var error = entry.Failure ?? status?.LastError;
        return new
        {
            source = entry.Kind,
            specification = entry.Specification.Json,
            state = error is not null ? (entry.Instances.IsDefault ? "failing" : "stale") : entry.Instances.IsDefault ? "waiting" : "ok",
            lastRefreshedAt = entry.LastRefreshedAt,
            lastChangedAt = entry.LastChangedAt,
            lastError = error,
            lastErrorAt = error is null ? null : status?.LastErrorAt,
            instances = (entry.Instances.IsDefault ? [] : entry.Instances).Select(static i => new { i.Url, i.Weight, i.Priority }),
            skipped = entry.Skipped,
        };
    }
}
