namespace FuncGateway.FixedResponses;

/// <summary>
/// The response a route answers with by itself, without an upstream (the route's <c>FixedResponse</c> property, a
/// JSON object): a mock, a maintenance notice, a static document.
/// </summary>
public sealed record FixedResponseDefinition
{
    /// <summary>The status code (200–599; 204 and 304 take no body).</summary>
    public required int Status { get; init; }

    /// <summary>Response headers. A body without <c>Content-Type</c> is sent as <c>text/plain; charset=utf-8</c>.</summary>
    public IReadOnlyDictionary<string, string>? Headers { get; init; }

    /// <summary>The body as text, sent as UTF-8. Not with <see cref="BodyBase64"/>.</summary>
    public string? Body { get; init; }

    /// <summary>The body as base64 (binary content). Not with <see cref="Body"/>.</summary>
    public string? BodyBase64 { get; init; }
}
