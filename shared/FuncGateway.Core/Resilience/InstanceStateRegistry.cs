using System.Collections.Concurrent;
using System.Collections.Frozen;
using FuncGateway.Health;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FuncGateway.Resilience;

/// <summary>
/// The per-instance state that outlives snapshots, keyed by pool name and instance URL: requests in flight, the last
/// health result and the circuit breaker. A reload that leaves an instance (and its breaker settings) unchanged hands
/// the new snapshot the same objects, so a reload never resets an open circuit. Entries no build has used for a
/// whole build are dropped. Health results read from the Health table are applied here, without rebuilding the
/// snapshot.
/// </summary>
internal sealed class InstanceStateRegistry
{
    private readonly ConcurrentDictionary<(string Pool, string Url), Entry> _entries = new();
    private readonly Lock _buildLock = new();
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private volatile FrozenDictionary<(string Pool, string Url), HealthRecord> _health = FrozenDictionary<(string, string), HealthRecord>.Empty;
    private long _generation;

    public InstanceStateRegistry(TimeProvider time, ILogger<InstanceStateRegistry>? logger = null)
    {
        _time = time;
        _logger = logger ?? NullLogger<InstanceStateRegistry>.Instance;
    }

    public TimeProvider Time => _time;

    /// <summary>Called when a snapshot build starts: forgets what the previous build did not use.</summary>
    public void BeginBuild()
    {
        lock (_buildLock)
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

    /// <summary>The state and breaker for an instance of the snapshot being built, reused when unchanged.</summary>
    public (InstanceState State, InstanceBreaker Breaker) Acquire(string pool, string url, CircuitBreakerSettings breakerSettings)
    {
        lock (_buildLock)
        {
            var key = (pool, url);
            if (!_entries.TryGetValue(key, out var entry))
            {
                entry = new Entry(new InstanceState(pool, url)) { Generation = _generation };
                entry.State.Health = _health.GetValueOrDefault(key);
                _entries[key] = entry;
            }

            entry.Generation = _generation;
            if (!breakerSettings.Enabled)
            {
                entry.Breaker = InstanceBreaker.Disabled;
            }
            else if (entry.Breaker is null || entry.Breaker.Settings != breakerSettings)
            {
                entry.Breaker = new InstanceBreaker(pool, url, breakerSettings, _time, _logger);
            }

            return (entry.State, entry.Breaker);
        }
    }

    /// <summary>
    /// Publishes health results. <paramref name="complete"/>: the records are the whole Health table (instances
    /// without a record lose theirs); otherwise they update only the instances they name.
    /// </summary>
    public void ApplyHealth(IEnumerable<HealthRecord> records, bool complete)
    {
        lock (_buildLock)
        {
            var map = complete ? new Dictionary<(string, string), HealthRecord>() : new Dictionary<(string, string), HealthRecord>(_health);
            foreach (var record in records)
            {
                map[(record.Pool, record.Url)] = record;
            }

            _health = map.ToFrozenDictionary();
            foreach (var (key, entry) in _entries)
            {
                entry.State.Health = _health.GetValueOrDefault(key);
            }
        }
    }

    /// <summary>The last health results seen, for the admin surface.</summary>
    public FrozenDictionary<(string Pool, string Url), HealthRecord> Health => _health;

    private sealed class Entry(InstanceState state)
    {
        public InstanceState State { get; } = state;

        public InstanceBreaker? Breaker { get; set; }

        public long Generation { get; set; }
    }
}
