using FuncGateway.Health;

namespace FuncGateway.Resilience;

/// <summary>
/// What an instance carries from one snapshot to the next: requests in flight and the last health result read from
/// the Health table. Keyed by pool and URL in <see cref="InstanceStateRegistry"/>.
/// </summary>
internal sealed class InstanceState(string pool, string url)
{
    /// <summary>Requests in flight from this gateway instance; updated with Interlocked.</summary>
    public int Outstanding;

    private volatile HealthRecord? _health;

    public string Pool { get; } = pool;

    public string Url { get; } = url;

    /// <summary>The last result from the Health table; null when there is none.</summary>
    public HealthRecord? Health
    {
        get => _health;
        set => _health = value;
    }

    /// <summary>False only when the pool is probed and a fresh result says the instance is down.</summary>
    public bool ActiveHealthAllows(long nowUtcTicks, HealthCheckSettings? healthCheck)
    {
        if (healthCheck is null)
        {
            return true;
        }

        var health = _health;
        return health is null || health.State != HealthState.Unhealthy || IsStale(health, nowUtcTicks, healthCheck);
    }

    public static bool IsStale(HealthRecord health, long nowUtcTicks, HealthCheckSettings healthCheck) =>
        nowUtcTicks - health.ProbedAt.UtcTicks > healthCheck.StaleAfter.Ticks;
}
