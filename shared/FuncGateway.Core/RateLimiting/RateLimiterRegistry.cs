using System.Collections.Frozen;
using Microsoft.Extensions.Options;

namespace FuncGateway.RateLimiting;

/// <summary>
/// Every configured policy as a limiter, built once at start-up and looked up by name (case-insensitive, as
/// configuration keys are). The limiters outlive registry snapshots: reloading routes never resets a counter.
/// </summary>
internal sealed class RateLimiterRegistry
{
    private readonly FrozenDictionary<string, PolicyRateLimiter> _policies;

    public RateLimiterRegistry(IOptions<RateLimitOptions> options, RateLimitRuntime runtime)
    {
        ArgumentNullException.ThrowIfNull(options);
        var value = options.Value;
        _policies = value.Policies.ToFrozenDictionary(
            static p => p.Key,
            p => new PolicyRateLimiter(RateLimitPolicy.Create(p.Key, p.Value, value), runtime),
            StringComparer.OrdinalIgnoreCase);
        Names = [.. _policies.Keys.Order(StringComparer.OrdinalIgnoreCase)];
        AuthenticationFailures = value.AuthenticationFailures.Enabled
            ? new PolicyRateLimiter(RateLimitPolicy.ForAuthenticationFailures(value), runtime)
            : null;
    }

    /// <summary>The configured policy names, sorted.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>The failed-authentication throttle's limiter; null when it is disabled.</summary>
    public PolicyRateLimiter? AuthenticationFailures { get; }

    public bool TryGet(string name, out PolicyRateLimiter limiter) => _policies.TryGetValue(name, out limiter!);
}
