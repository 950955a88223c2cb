namespace FuncGateway.Resilience;

/// <summary>
/// How a route retries, as an operator wrote it (the route's <c>Retries</c> property, JSON). Every member is
/// optional; a missing one takes its default. Routes without the property get the defaults.
/// </summary>
public sealed record RetryDefinition
{
    /// <summary>Retries after the first attempt, each to a different instance (0 turns retries off). Default 2.</summary>
    public int? MaxRetries { get; init; }

    /// <summary>Median delay before the first retry in milliseconds; later retries back off exponentially, with jitter. Default 20.</summary>
    public double? BackoffMilliseconds { get; init; }

    /// <summary>Longest delay between two attempts in milliseconds. Default 500.</summary>
    public double? MaxBackoffMilliseconds { get; init; }

    /// <summary>Upstream statuses that are retried (idempotent requests without a body). Default [502, 503, 504].</summary>
    public IReadOnlyList<int>? RetryOnStatus { get; init; }

    /// <summary>Whether an idempotent request without a body that timed out is retried. Default false.</summary>
    public bool? RetryOnTimeout { get; init; }

    /// <summary>Retries may add at most this percentage to the route's requests (over about 10 s). Default 20.</summary>
    public double? BudgetPercent { get; init; }

    /// <summary>Retries per second always allowed on top of the percentage, so a quiet route can still retry. Default 10.</summary>
    public double? BudgetMinPerSecond { get; init; }
}
