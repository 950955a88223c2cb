using System.Text.Json;
using FuncGateway.Configuration;
using FuncGateway.Health;
using FuncGateway.LoadBalancing;

namespace FuncGateway.Resilience;

/// <summary>
/// The table format of the resilience properties: pools' <c>HashKey</c>, <c>HealthCheck</c> and <c>CircuitBreaker</c>,
/// routes' <c>Retries</c> and <c>Fallback</c>. The JSON ones are objects in a string property; reading validates
/// them in full, so a bad value rejects the row (also in <c>fgw validate</c>).
/// </summary>
internal static class ResilienceFormat
{
    public const string HealthCheckExample = "{\"path\":\"/health\",\"expectedStatus\":\"200-299\",\"timeoutSeconds\":2,\"intervalSeconds\":10,\"unhealthyThreshold\":3,\"healthyThreshold\":2}";
    public const string CircuitBreakerExample = "{\"failureRatio\":0.5,\"minimumThroughput\":10,\"samplingSeconds\":30,\"breakSeconds\":10}";
    public const string RetriesExample = "{\"maxRetries\":2,\"backoffMilliseconds\":20,\"maxBackoffMilliseconds\":500,\"retryOnStatus\":[502,503,504],\"retryOnTimeout\":false,\"budgetPercent\":20,\"budgetMinPerSecond\":10}";
    public const string FallbackExample = "{\"status\":503,\"headers\":{\"Content-Type\":\"application/json\"},\"body\":\"{\\\"message\\\":\\\"try later\\\"}\"}";

    public static HealthCheckDefinition? ParseHealthCheck(string name, string? json, List<string> errors)
    {
        var definition = Parse<HealthCheckDefinition>(name, json, HealthCheckExample, errors);
        return definition is not null && HealthCheckSettings.Create(definition, errors) is not null ? definition : null;
    }

    public static CircuitBreakerDefinition? ParseCircuitBreaker(string name, string? json, List<string> errors)
    {
        var definition = Parse<CircuitBreakerDefinition>(name, json, CircuitBreakerExample, errors);
        return definition is not null && CircuitBreakerSettings.Create(definition, errors) is not null ? definition : null;
    }

    public static RetryDefinition? ParseRetries(string name, string? json, List<string> errors)
    {
        var definition = Parse<RetryDefinition>(name, json, RetriesExample, errors);
        return definition is not null && RetrySettings.Create(definition, errors) is not null ? definition : null;
    }

    public static FallbackDefinition? ParseFallback(string name, string? json, List<string> errors)
    {
        var definition = Parse<FallbackDefinition>(name, json, FallbackExample, errors);
        return definition is not null && FallbackResponse.Create(definition, errors) is not null ? definition : null;
    }

    /// <summary>Checks a pool's <c>HashKey</c> and that the pool's policy uses it.</summary>
    public static string? ValidateHashKey(string? hashKey, string? policy, List<string> errors)
    {
        if (hashKey is null)
        {
            return null;
        }

        if (!HashKeySelector.TryParse(hashKey, out _, out var error))
        {
            errors.Add(error);
            return null;
        }

        if (!string.Equals(policy, LoadBalancingPolicies.ConsistentHash, StringComparison.OrdinalIgnoreCase))
        {
            errors.Add($"HashKey is only used by LoadBalancing {LoadBalancingPolicies.ConsistentHash}; this pool uses {RegistryFormat.Printable(policy ?? LoadBalancingPolicies.RoundRobin)}.");
            return null;
        }

        return hashKey;
    }

    public static string ToJson<T>(T value) => JsonSerializer.Serialize(value, RegistryFormat.JsonOptions);

    private static T? Parse<T>(string name, string? json, string example, List<string> errors)
        where T : class
    {
        if (json is null)
        {
            return null;
        }

        try
        {
            var value = JsonSerializer.Deserialize<T>(json, RegistryFormat.JsonOptions);
            if (value is null)
            {
                errors.Add($"{name} must be a JSON object such as {example}, not null.");
            }

            return value;
        }
        catch (JsonException ex)
        {
            errors.Add($"{name} is not valid (expected a JSON object such as {example}): {Message(ex)}");
            return null;
        }
    }

    private static string Message(JsonException ex)
    {
        var message = ex.Message;
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        if (cut > 0)
        {
            message = message[..cut];
        }

        var where = ex.Path is { Length: > 1 } path ? $" (at {path})" : "";
        return message.Replace("FuncGateway.Resilience.", "", StringComparison.Ordinal)
            .Replace("FuncGateway.Health.", "", StringComparison.Ordinal)
            .Replace("System.Collections.Generic.", "", StringComparison.Ordinal) + where;
    }
}
