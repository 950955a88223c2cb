using System.Collections.Concurrent;

namespace FuncGateway.Model;

/// <summary>
/// The per-instance state that must survive snapshot rebuilds (requests in flight, breakers, health), keyed by pool
/// and URL. A snapshot build acquires the state of every instance it compiles; an instance that no build has used
/// for two builds in a row is gone and its state is dropped. Capabilities that keep state per instance
/// (<see cref="IPoolFeatureCompiler.CompileInstance"/>) do so under this registry's lock.
/// </summary>
public sealed class InstanceStateRegistry
{
    private readonly ConcurrentDictionary<(string Pool, string Url), Entry> _entries = new();
    private readonly Lock _lock = new();
    private long _generation;

    /// <summary>Starts a snapshot build: forgets instances the previous build no longer had.</summary>
    public void BeginBuild()
    {
        lock (_lock)
        {
            var generation = ++_generation;
            if (_entries.IsEmpty)
            {
                return;
            }

            foreach (var (key, entry) in _entries)
            {
                if (entry.Generation < generation - 1)
                {
                    _entries.TryRemove(key, out _);
                }
            }
        }
    }

    /// <summary>
    /// The state of an instance (created on first use), marked as used by the current build; <paramref name="update"/>
    /// runs under the registry's lock, so capability state in the slots can be created or replaced safely.
    /// </summary>
    public TResult Acquire<TResult>(string pool, string url, Func<InstanceState, TResult> update)
    {
        ArgumentNullException.ThrowIfNull(update);
        lock (_lock)
        {
            var key = (pool, url);
            if (!_entries.TryGetValue(key, out var entry))
            {
                entry = new Entry(new InstanceState(pool, url)) { Generation = _generation };
                _entries[key] = entry;
            }

            entry.Generation = _generation;
            return update(entry.State);
        }
    }

    /// <summary>Runs <paramref name="action"/> for every live instance state under the registry's lock.</summary>
    public void ForEach(Action<InstanceState> action)
    {
        ArgumentNullException.ThrowIfNull(action);
        lock (_lock)
        {
            foreach (var entry in _entries.Values)
            {
                action(entry.State);
            }
        }
    }

    private sealed class Entry(InstanceState state)
    {
        public InstanceState State { get; } = state;

        public long Generation { get; set; }
    }
}
