
using FuncGateway.Model;

namespace FuncGateway.RateLimiting;

/// <summary>A route's rate limits, compiled with its snapshot: the policies it names, in order.</summary>
internal sealed class RouteRateLimits
{
    public RouteRateLimits(PolicyRateLimiter[] policies)
    {
        Policies = policies;
        PolicyHeader = string.Join(", ", policies.Select(static p => p.Policy.Limits.PolicyHeaderItem));
        TierDependent = policies.Any(static p => p.Policy.HasTiers);
    }

    public PolicyRateLimiter[] Policies { get; }

    /// <summary>The <c>RateLimit-Policy</c> header for callers without a tier.</summary>
    public string PolicyHeader { get; }

    /// <summary>Whether a caller's tier changes the limits (and so the <c>RateLimit-Policy</c> header).</summary>
    public bool TierDependent { get; }
}

/// <summary>Compiles a route's <c>RateLimit</c> property: every name must be a configured policy, or the row is rejected.</summary>
internal sealed class RateLimitRouteCompiler(RateLimiterRegistry registry) : IRouteFeatureCompiler
{
    public object? Compile(RouteDefinition route, List<string> errors)
    {
        ArgumentNullException.ThrowIfNull(route);
        ArgumentNullException.ThrowIfNull(errors);
        var names = route.Get(RateLimitProperties.RateLimit);
        if (names.Count == 0)
        {
            return null;
        }

        var policies = new List<PolicyRateLimiter>(names.Count);
        var ok = true;
        foreach (var name in names)
        {
            if (string.IsNullOrWhiteSpace(name))
            {
                errors.Add("RateLimit contains an empty policy name.");
                ok = false;
                continue;
            }

            if (!registry.TryGet(name.Trim(), out var limiter))
            {
                errors.Add(registry.Names.Count == 0
                    ? $"RateLimit names policy '{PrintableText.Of(name)}', but no rate-limit policy is configured (FuncGateway:RateLimits:Policies)."
                    : $"RateLimit names unknown policy '{PrintableText.Of(name)}'. Configured policies: {string.Join(", ", registry.Names)}.");
                ok = false;
                continue;
            }

            if (policies.Contains(limiter))
            {
                errors.Add($"RateLimit lists policy '{limiter.Policy.Name}' twice.");
                ok = false;
                continue;
            }

            policies.Add(limiter);
        }

        return ok ? new RouteRateLimits([.. policies]) : null;
    }
}
