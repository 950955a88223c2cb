namespace FuncGateway.Resilience;

/// <summary>
/// The response a route serves when no upstream instance can answer (the route's <c>Fallback</c> property, JSON):
/// every instance is down or its circuit open, or every attempt failed before a response started.
/// </summary>
public sealed record FallbackDefinition
{
    /// <summary>The status code (200–599).</summary>
    public required int Status { get; init; }

    /// <summary>Response headers. A body without <c>Content-Type</c> is sent as <c>text/plain; charset=utf-8</c>.</summary>
    public IReadOnlyDictionary<string, string>? Headers { get; init; }

    /// <summary>The body, sent as UTF-8.</summary>
    public string? Body { get; init; }
}
