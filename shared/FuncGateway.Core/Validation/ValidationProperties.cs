using FuncGateway.Model;

namespace FuncGateway.Validation;

/// <summary>The route property request validation owns.</summary>
public static class ValidationProperties
{
    /// <summary>An example of the property, shown when a value does not parse.</summary>
    internal const string Example = "{\"contentTypes\":[\"application/json\"],\"maxBodyBytes\":65536,\"json\":{\"maxDepth\":10},\"schema\":\"order\"}";

    /// <summary>What the route checks in requests (JSON object; see docs/validation.md). Null: nothing.</summary>
    public static RegistryProperty<ValidationDefinition?> Validation { get; } =
        RegistryProperties.Json<ValidationDefinition>(RegistryTable.Routes, "Validation", static (json, errors) => Parse("Validation", json, errors), RegistryJson.ToJson);

    /// <summary>Every validation property, in file order.</summary>
    public static IReadOnlyList<RegistryProperty> All { get; } = [Validation];

    /// <summary>Reads the property and checks it in full, except whether its schema exists (that needs the Schemas table).</summary>
    internal static ValidationDefinition? Parse(string name, string? json, List<string> errors)
    {
        var definition = RegistryJson.ParseObject<ValidationDefinition>(name, json, Example, errors);
        return definition is not null && RouteValidation.Create(definition, null, long.MaxValue, errors) is not null ? definition : null;
    }
}
