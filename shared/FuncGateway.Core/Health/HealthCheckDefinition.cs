namespace FuncGateway.Health;

/// <summary>
/// Active health checking of a pool, as an operator wrote it (the pool's <c>HealthCheck</c> property, JSON). Every
/// member is optional; a missing one takes its default. A pool without <c>HealthCheck</c> is never probed.
/// </summary>
public sealed record HealthCheckDefinition
{
    /// <summary>Path (and optional query) requested on each instance, appended to the instance URL. Default <c>/health</c>.</summary>
    public string? Path { get; init; }

    /// <summary>Statuses that count as healthy: <c>200</c>, <c>200-299</c> or a comma-separated list of both. Default <c>200-299</c>.</summary>
    public string? ExpectedStatus { get; init; }

    /// <summary>Seconds a probe may take before it counts as failed. Default 2; at most the interval.</summary>
    public double? TimeoutSeconds { get; init; }

    /// <summary>Seconds between two probes of an instance. Default 10.</summary>
    public double? IntervalSeconds { get; init; }

    /// <summary>Consecutive failed probes that mark an instance down. Default 3.</summary>
    public int? UnhealthyThreshold { get; init; }

    /// <summary>Consecutive successful probes that bring a down instance back. Default 2.</summary>
    public int? HealthyThreshold { get; init; }
}
