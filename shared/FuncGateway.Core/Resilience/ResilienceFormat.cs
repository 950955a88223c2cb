using FuncGateway.Model;

namespace FuncGateway.Resilience;

/// <summary>
/// The table format of the resilience properties: routes' <c>Retries</c> and <c>Fallback</c>, pools'
/// <c>CircuitBreaker</c>. They are JSON objects in a string property; reading validates them in full, so a bad value
/// rejects the row (also in <c>fgw validate</c>).
/// </summary>
internal static class ResilienceFormat
{
    public const string CircuitBreakerExample = "{\"failureRatio\":0.5,\"minimumThroughput\":10,\"samplingSeconds\":30,\"breakSeconds\":10}";
    public const string RetriesExample = "{\"maxRetries\":2,\"backoffMilliseconds\":20,\"maxBackoffMilliseconds\":500,\"retryOnStatus\":[502,503,504],\"retryOnTimeout\":false,\"budgetPercent\":20,\"budgetMinPerSecond\":10}";
    public const string FallbackExample = "{\"status\":503,\"headers\":{\"Content-Type\":\"application/json\"},\"body\":\"{\\\"message\\\":\\\"try later\\\"}\"}";

    public static CircuitBreakerDefinition? ParseCircuitBreaker(string name, string? json, List<string> errors)
    {
        var definition = RegistryJson.ParseObject<CircuitBreakerDefinition>(name, json, CircuitBreakerExample, errors);
        return definition is not null && CircuitBreakerSettings.Create(definition, errors) is not null ? definition : null;
    }

    public static RetryDefinition? ParseRetries(string name, string? json, List<string> errors)
    {
        var definition = RegistryJson.ParseObject<RetryDefinition>(name, json, RetriesExample, errors);
        return definition is not null && RetrySettings.Create(definition, errors) is not null ? definition : null;
    }

    /// <summary>
    /// Reads <c>Fallback</c>'s JSON. What it says is checked when the route compiles (<see cref="RouteResilience"/>,
    /// which <c>fgw validate</c> runs too), so a row that reads but does not validate is still exported as it is.
    /// </summary>
    public static FallbackDefinition? ParseFallback(string name, string? json, List<string> errors) =>
        RegistryJson.ParseObject<FallbackDefinition>(name, json, FallbackExample, errors);

    public static string ToJson<T>(T value) => RegistryJson.ToJson(value);
}
