namespace FuncGateway.Concurrency;

/// <summary>Stable <c>code</c> values of the concurrency limit's problem responses.</summary>
public static class ConcurrencyProblems
{
    /// <summary>503: the route already has <c>MaxConcurrency</c> requests in flight on this instance; see Retry-After.</summary>
    public const string Limited = "concurrency_limited";
}
