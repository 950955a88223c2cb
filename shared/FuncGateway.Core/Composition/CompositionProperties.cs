using FuncGateway.Model;

namespace FuncGateway.Composition;

/// <summary>The route property response aggregation owns.</summary>
public static class CompositionProperties
{
    /// <summary>The upstream requests whose answers make up the route's response (JSON object). Null: the route forwards.</summary>
    public static RegistryProperty<CompositionDefinition?> Composition { get; } =
        RegistryProperties.Json<CompositionDefinition>(RegistryTable.Routes, "Composition", static (json, errors) => CompositionFormat.Parse("Composition", json, errors), RegistryJson.ToJson).AnsweringRoute();

    /// <summary>Every composition property, in file order.</summary>
    public static IReadOnlyList<RegistryProperty> All { get; } = [Composition];
}
