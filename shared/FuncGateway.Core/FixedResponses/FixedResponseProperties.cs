using FuncGateway.Model;

namespace FuncGateway.FixedResponses;

/// <summary>The route property fixed responses own.</summary>
public static class FixedResponseProperties
{
    /// <summary>The response the route answers with instead of forwarding (JSON object). Null: the route forwards to its upstream.</summary>
    public static RegistryProperty<FixedResponseDefinition?> FixedResponse { get; } =
        RegistryProperties.Json<FixedResponseDefinition>(RegistryTable.Routes, "FixedResponse", static (json, errors) => FixedResponder.Parse("FixedResponse", json, errors), RegistryJson.ToJson).AnsweringRoute();

    /// <summary>Every fixed-response property, in file order.</summary>
    public static IReadOnlyList<RegistryProperty> All { get; } = [FixedResponse];
}
