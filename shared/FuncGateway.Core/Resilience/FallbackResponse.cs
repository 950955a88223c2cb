using FuncGateway.Model;

namespace FuncGateway.Resilience;

/// <summary>A route's fallback response: its <see cref="FallbackDefinition"/> validated and encoded once.</summary>
internal static class FallbackResponse
{
    /// <summary>Validates <paramref name="definition"/>; every problem goes to <paramref name="errors"/>.</summary>
    public static StaticResponse? Create(FallbackDefinition? definition, List<string> errors) =>
        definition is null ? null : StaticResponse.Create("Fallback", definition.Status, definition.Headers, StaticResponse.Utf8(definition.Body), errors);
}
