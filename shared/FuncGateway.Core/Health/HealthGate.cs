using System.Collections.Frozen;
using FuncGateway.Model;

namespace FuncGateway.Health;

/// <summary>The last health result of one instance, kept in its <see cref="InstanceState"/> across snapshots.</summary>
internal sealed class HealthCell
{
    private volatile HealthRecord? _record;

    public HealthRecord? Record
    {
        get => _record;
        set => _record = value;
    }
}

/// <summary>Takes an instance of a probed pool out of rotation while a fresh result says it is down.</summary>
/// <param name="cell">The instance's last health result.</param>
/// <param name="settings">The pool's health check.</param>
/// <param name="probeTick">How often probe rounds run; null when unknown (the interval is then taken as it is).</param>
internal sealed class HealthGate(HealthCell cell, HealthCheckSettings settings, TimeSpan? probeTick = null) : IInstanceGate
{
    public HealthCell Cell { get; } = cell;

    public HealthCheckSettings Settings { get; } = settings;

    /// <summary>
    /// How often the instance is really probed: probes run only on rounds, so the interval is rounded to the nearest
    /// multiple of the round's tick (halves down), and is never less than one tick.
    /// </summary>
    public TimeSpan EffectiveInterval { get; } = probeTick is { Ticks: > 0 } tick
        ? tick * Math.Max(1, Math.Ceiling((settings.Interval / tick) - 0.5))
        : settings.Interval;

    /// <summary>False only when a fresh result says the instance is down.</summary>
    public bool Allows(long nowUtcTicks)
    {
        var health = Cell.Record;
        return health is null || health.State != HealthState.Unhealthy || IsStale(health, nowUtcTicks, Settings);
    }

    /// <summary>
    /// A down instance is back after the passes it still needs, one per effective interval, at the earliest; or when
    /// its result goes stale, if that comes first.
    /// </summary>
    public TimeSpan RetryAfter(long nowUtcTicks)
    {
        if (Allows(nowUtcTicks) || Cell.Record is not { } health)
        {
            return TimeSpan.Zero;
        }

        var probesLeft = Math.Max(1, Settings.HealthyThreshold - health.ConsecutiveSuccesses);
        var untilStale = health.ProbedAt.UtcTicks + Settings.StaleAfter.Ticks + 1 - nowUtcTicks;
        return TimeSpan.FromTicks(Math.Max(0, Math.Min(EffectiveInterval.Ticks * probesLeft, untilStale)));
    }

    public static bool IsStale(HealthRecord health, long nowUtcTicks, HealthCheckSettings healthCheck) =>
        nowUtcTicks - health.ProbedAt.UtcTicks > healthCheck.StaleAfter.Ticks;
}

/// <summary>
/// The health results this gateway instance knows (read from the Health table or just probed), applied to the live
/// instances of probed pools.
/// </summary>
internal sealed class HealthResults(InstanceStateRegistry states)
{
    private readonly Lock _lock = new();
    private volatile FrozenDictionary<(string Pool, string Url), HealthRecord> _health = FrozenDictionary<(string, string), HealthRecord>.Empty;

    /// <summary>The last results seen, by pool and URL.</summary>
    public FrozenDictionary<(string Pool, string Url), HealthRecord> Current => _health;

    /// <summary>
    /// Takes new results: <paramref name="complete"/> replaces everything known (a full table read), otherwise the
    /// records are merged in (this instance's own probes).
    /// </summary>
    public void Apply(IEnumerable<HealthRecord> records, bool complete)
    {
        lock (_lock)
        {
            var map = complete ? new Dictionary<(string, string), HealthRecord>() : new Dictionary<(string, string), HealthRecord>(_health);
            foreach (var record in records)
            {
                map[(record.Pool, record.Url)] = record;
            }

            _health = map.ToFrozenDictionary();
            var current = _health;
            states.ForEach(state =>
            {
                if (state.Get<HealthCell>() is { } cell)
                {
                    cell.Record = current.GetValueOrDefault((state.Pool, state.Url));
                }
            });
        }
    }
}

/// <summary>Compiles a pool's <c>HealthCheck</c>, and gives each instance of a probed pool its <see cref="HealthGate"/>.</summary>
internal sealed class HealthCheckPoolCompiler(HealthResults results, TimeSpan? probeTick = null) : IPoolFeatureCompiler
{
    public object? CompilePool(UpstreamDefinition pool, List<string> errors) =>
        pool.Get(HealthProperties.HealthCheck) is { } definition ? HealthCheckSettings.Create(definition, errors) : null;

    public object? CompileInstance(InstanceState state, object? poolFeature)
    {
        if (poolFeature is not HealthCheckSettings settings)
        {
            return null;
        }

        var cell = state.Get<HealthCell>();
        if (cell is null)
        {
            cell = new HealthCell { Record = results.Current.GetValueOrDefault((state.Pool, state.Url)) };
            state.Set(cell);
        }

        return new HealthGate(cell, settings, probeTick);
    }
}

/// <summary>What health checking compiled for pools and instances.</summary>
internal static class UpstreamHealthExtensions
{
    extension(UpstreamPool pool)
    {
        /// <summary>Active health checking of the pool's instances; null when the pool is not probed.</summary>
        public HealthCheckSettings? HealthCheck => pool.GetFeature<HealthCheckSettings>();
    }

    extension(UpstreamInstance instance)
    {
        /// <summary>The health check of the instance's pool; null when the pool is not probed.</summary>
        public HealthCheckSettings? HealthCheck => instance.GetFeature<HealthGate>()?.Settings;

        /// <summary>The instance's last health result; null when there is none or the pool is not probed.</summary>
        public HealthRecord? Health => instance.GetFeature<HealthGate>()?.Cell.Record;
    }
}
