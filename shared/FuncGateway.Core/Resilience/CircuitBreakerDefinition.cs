namespace FuncGateway.Resilience;

/// <summary>
/// The per-instance circuit breaker of a pool, as an operator wrote it (the pool's <c>CircuitBreaker</c> property,
/// JSON). Every member is optional; a missing one takes its default. Pools without the property get the defaults.
/// </summary>
public sealed record CircuitBreakerDefinition
{
    /// <summary>False turns the breaker off for the pool. Default true.</summary>
    public bool? Enabled { get; init; }

    /// <summary>Share of failed requests within the sampling window that opens the circuit, in (0, 1]. Default 0.5.</summary>
    public double? FailureRatio { get; init; }

    /// <summary>Requests the window must hold before the ratio counts (at least 2). Default 10.</summary>
    public int? MinimumThroughput { get; init; }

    /// <summary>Length of the sliding sampling window in seconds. Default 30.</summary>
    public double? SamplingSeconds { get; init; }

    /// <summary>How long an open circuit keeps the instance out before one probe request may try it. Default 10.</summary>
    public double? BreakSeconds { get; init; }
}
