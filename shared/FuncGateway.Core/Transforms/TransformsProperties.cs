using System.Text.Json;
using FuncGateway.Model;

namespace FuncGateway.Transforms;

/// <summary>The route property the Transforms capability owns.</summary>
public static class TransformsProperties
{
    /// <summary>An example of the format, shown in errors.</summary>
    public const string Example = "[{\"RequestHeader\":\"X-Api-Version\",\"Set\":\"2\"},{\"ResponseHeaderRemove\":\"Server\"}]";

    /// <summary>
    /// The route's ordered transforms (a JSON array in the entity, native JSON in a registry file), see
    /// docs/transforms.md. Null: none. Reading an entity checks the list in full (all but the route's path parameters,
    /// which the compiler checks).
    /// </summary>
    public static RegistryProperty<IReadOnlyList<TransformDefinition>?> Transforms { get; } =
        RegistryProperties.Json<IReadOnlyList<TransformDefinition>>(RegistryTable.Routes, "Transforms", Parse, static value => RegistryJson.ToJson(value));

    /// <summary>Every transforms property, in file order.</summary>
    public static IReadOnlyList<RegistryProperty> All { get; } = [Transforms];

    /// <summary>Reads and checks the entity's JSON; null (with errors) when it is not a valid list, and for an empty one.</summary>
    internal static IReadOnlyList<TransformDefinition>? Parse(string json, List<string> errors)
    {
        List<TransformDefinition>? items;
        try
        {
            items = JsonSerializer.Deserialize<List<TransformDefinition>>(json, RegistryJson.Options);
        }
        catch (JsonException ex)
        {
            var where = ex.Path is { Length: > 1 } path ? $" (at {path})" : "";
            // The serializer's own wording names .NET types; an operator needs the shape.
            var message = ex.Message.Contains("could not be converted", StringComparison.Ordinal)
                ? "the value is not an array of objects of strings"
                : RegistryJson.Message(ex);
            errors.Add($"Transforms is not valid (expected a JSON array such as {Example}): {message}{where}");
            return null;
        }

        if (items is null)
        {
            errors.Add($"Transforms must be a JSON array such as {Example}, not null.");
            return null;
        }

        var start = errors.Count;
        TransformCompiler.Compile(items, TransformScope.Unbound, errors, [], []);
        return errors.Count > start || items.Count == 0 ? null : items;
    }
}
