namespace FuncGateway.RateLimiting;

/// <summary>Stable <c>code</c> values of the rate limiter's problem responses.</summary>
public static class RateLimitProblems
{
    /// <summary>429: a policy of the route refused the request; <c>Retry-After</c> says when to try again.</summary>
    public const string RateLimited = "rate_limited";

    /// <summary>503: a fail-closed policy could not reach its counters.</summary>
    public const string Unavailable = "rate_limit_unavailable";
}
