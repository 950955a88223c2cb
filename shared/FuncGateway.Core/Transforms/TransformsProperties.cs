using System.Text.Json;
using FuncGateway.Model;

namespace FuncGateway.Transforms;

/// <summary>The route property the Transforms capability owns.</summary>
public static class TransformsProperties
{
    /// <summary>An example of the format, shown in errors.</summary>
    public const string Example = "[{\"RequestHeader\":\"X-Api-Version\",\"Set\":\"2\"},{\"ResponseHeaderRemove\":\"Server\"}]";

    /// <summary>The route properties (owned by Authentication, read by name) naming credential query parameters.</summary>
    internal static readonly string[] CredentialPropertyNames = ["TokenQueryParameter", "ApiKeyQueryParameter"];

    /// <summary>
    /// The route's ordered transforms (a JSON array in the entity, native JSON in a registry file), see
    /// docs/transforms.md. Null: none. Reading an entity checks the list in full, against the row's Path and credential
    /// parameters; the compiler checks it again for definitions that did not come from an entity.
    /// </summary>
    public static RegistryProperty<IReadOnlyList<TransformDefinition>?> Transforms { get; } = new(
        RegistryTable.Routes, "Transforms", null,
        static (RegistryEntityReader reader, string name, out IReadOnlyList<TransformDefinition>? value) =>
        {
            // Checked against the row's own Path and credential parameters, so fgw validate sees what the gateway sees.
            var text = reader.OptionalString(name);
            value = text is null ? null : Parse(text, TransformScope.For(reader.PeekString("Path"), CredentialPropertyNames.Select(reader.PeekString), TimeProvider.System), reader.Errors);
            return value is not null;
        },
        static value => value is null ? null : RegistryJson.ToJson(value),
        static value => value is null);

    /// <summary>Every transforms property, in file order.</summary>
    public static IReadOnlyList<RegistryProperty> All { get; } = [Transforms];

    /// <summary>Reads and checks the entity's JSON on its own (no route to check parameters against).</summary>
    internal static IReadOnlyList<TransformDefinition>? Parse(string json, List<string> errors) => Parse(json, TransformScope.Unbound, errors);

    /// <summary>Reads and checks the entity's JSON against <paramref name="scope"/>; null (with errors) when invalid, and for an empty list.</summary>
    internal static IReadOnlyList<TransformDefinition>? Parse(string json, TransformScope scope, List<string> errors)
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
        TransformCompiler.Compile(items, scope, errors, [], []);
        return errors.Count > start || items.Count == 0 ? null : items;
    }
}
