using FuncGateway.Model;

namespace FuncGateway.Resilience;

/// <summary>The route and pool properties resilience owns: retries and fallbacks of routes, circuit breakers of pools.</summary>
public static class ResilienceProperties
{
    /// <summary>Retries to other instances (JSON object). Null: the defaults (2 retries of idempotent requests).</summary>
    public static RegistryProperty<RetryDefinition?> Retries { get; } =
        RegistryProperties.Json<RetryDefinition>(RegistryTable.Routes, "Retries", static (json, errors) => ResilienceFormat.ParseRetries("Retries", json, errors), ResilienceFormat.ToJson);

    /// <summary>The response served when no instance can answer (JSON object). Null: a 503/502/504 problem response.</summary>
    public static RegistryProperty<FallbackDefinition?> Fallback { get; } =
        RegistryProperties.Json<FallbackDefinition>(RegistryTable.Routes, "Fallback", static (json, errors) => ResilienceFormat.ParseFallback("Fallback", json, errors), ResilienceFormat.ToJson);

    /// <summary>The per-instance circuit breaker of a pool (JSON object). Null: the defaults.</summary>
    public static RegistryProperty<CircuitBreakerDefinition?> CircuitBreaker { get; } =
        RegistryProperties.Json<CircuitBreakerDefinition>(RegistryTable.Upstreams, "CircuitBreaker", static (json, errors) => ResilienceFormat.ParseCircuitBreaker("CircuitBreaker", json, errors), ResilienceFormat.ToJson);

    /// <summary>Every resilience property, in file order.</summary>
    public static IReadOnlyList<RegistryProperty> All { get; } = [Retries, Fallback, CircuitBreaker];
}
