using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Unicode;

namespace FuncGateway.Transforms;

/// <summary>A request or response body read as JSON by the body transforms.</summary>
internal static class JsonBody
{
    /// <summary>
    /// Parses <paramref name="body"/>, which must be UTF-8 (RFC 8259 §8.1): checked first, because the parser would only
    /// notice when a string is decoded, long after. Throws <see cref="JsonException"/> when it is not JSON.
    /// </summary>
    public static JsonNode? Parse(ReadOnlySpan<byte> body, JsonDocumentOptions options) =>
        Utf8.IsValid(body) ? JsonNode.Parse(body, documentOptions: options) : throw new JsonException("The body is not valid UTF-8.");
}
