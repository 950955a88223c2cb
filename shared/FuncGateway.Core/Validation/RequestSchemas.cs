using System.Collections.Frozen;
using System.Text.Json;
using System.Text.RegularExpressions;
using FuncGateway.Model;
using Json.Schema;

namespace FuncGateway.Validation;

/// <summary>
/// The Schemas table compiled for one snapshot: every schema that compiled, by name, and why the others did not. A
/// route names a schema; a name that is missing or whose row was rejected rejects the route.
/// </summary>
internal sealed class RequestSchemas
{
    public RequestSchemas(FrozenDictionary<string, JsonSchema> schemas, FrozenSet<string> rejected)
    {
        Schemas = schemas;
        Rejected = rejected;
    }

    public static RequestSchemas Empty { get; } = new(FrozenDictionary<string, JsonSchema>.Empty, FrozenSet<string>.Empty);

    public FrozenDictionary<string, JsonSchema> Schemas { get; }

    public FrozenSet<string> Rejected { get; }
}

/// <summary>
/// The Schemas table's format and compiler. One row per schema: <c>RowKey</c> is its name, the string property
/// <c>Schema</c> the JSON Schema (draft 2020-12; <c>$schema</c> may be left out or must name 2020-12). A schema is
/// built once per snapshot, with its own registry: no <c>$ref</c> reaches the network or another schema row.
/// </summary>
internal sealed partial class SchemaTableCompiler : IRegistryTableCompiler
{
    /// <summary>The entity property that holds the schema.</summary>
    public const string SchemaProperty = "Schema";

    /// <summary>The only dialect accepted.</summary>
    public const string Draft202012 = "https://json-schema.org/draft/2020-12/schema";

    public RegistryTable Table => RegistryTable.Schemas;

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();

    public object Compile(IReadOnlyList<RegistryRow> rows, List<RejectedRow> rejected)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(rejected);
        var schemas = new Dictionary<string, JsonSchema>(StringComparer.Ordinal);
        var refused = new HashSet<string>(StringComparer.Ordinal);
        var firstPartition = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var row in rows.OrderBy(r => r.PartitionKey, StringComparer.Ordinal).ThenBy(r => r.RowKey, StringComparer.Ordinal))
        {
            var errors = new List<string>();
            if (firstPartition.TryGetValue(row.RowKey, out var other))
            {
                errors.Add($"Duplicate schema name '{PrintableText.Of(row.RowKey)}': already defined in partition '{PrintableText.Of(other)}'. Names must be unique across partitions.");
            }
            else
            {
                firstPartition[row.RowKey] = row.PartitionKey;
            }

            var schema = Parse(row, errors);
            if (errors.Count > 0 || schema is null)
            {
                rejected.Add(new RejectedRow(row.Table, row.PartitionKey, row.RowKey, errors));
                refused.Add(row.RowKey);
                continue;
            }

            schemas[row.RowKey] = schema;
        }

        refused.ExceptWith(schemas.Keys);
        return new RequestSchemas(schemas.ToFrozenDictionary(StringComparer.Ordinal), refused.ToFrozenSet(StringComparer.Ordinal));
    }

    /// <summary>Reads and builds one row's schema; null (with errors) when it does not compile.</summary>
    public static JsonSchema? Parse(RegistryRow row, List<string> errors)
    {
        ArgumentNullException.ThrowIfNull(row);
        ArgumentNullException.ThrowIfNull(errors);
        if (!NamePattern().IsMatch(row.RowKey))
        {
            errors.Add($"Schema name '{PrintableText.Of(row.RowKey)}' must be 1–64 letters, digits, '.', '_' or '-', starting with a letter or digit.");
        }

        foreach (var key in row.Properties.Keys)
        {
            if (key != SchemaProperty)
            {
                errors.Add($"Unknown property '{PrintableText.Of(key)}': a schema row has only '{SchemaProperty}'.");
            }
        }

        // The shared reader tells a missing or blank value from one of the wrong type (a number, a Boolean) and one
        // over Table Storage's limit, in the words every other table's rows use.
        var text = new RegistryEntityReader(row, errors).RequiredString(SchemaProperty);
        return text is null ? null : Build(text, errors);
    }

    /// <summary>
    /// Every <c>$ref</c> must point inside the schema itself (<c>#</c>, <c>#/json/pointer</c> or <c>#anchor</c>): a
    /// schema row is self-contained, nothing is fetched, and a reference that leads nowhere is found now rather than
    /// on the first request.
    /// </summary>
    private static bool ReferencesResolve(JsonElement root, JsonElement element, List<string> errors)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var member in element.EnumerateObject())
                {
                    if (member.Name is "$ref" or "$dynamicRef" && member.Value.ValueKind == JsonValueKind.String && !Resolves(root, member.Value.GetString()!))
                    {
                        errors.Add($"{SchemaProperty}: {member.Name} '{PrintableText.Of(member.Value.GetString()!)}' does not resolve inside the schema; a schema row must be self-contained (use $defs and \"#/$defs/name\").");
                        return false;
                    }

                    if (!ReferencesResolve(root, member.Value, errors))
                    {
                        return false;
                    }
                }

                return true;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    if (!ReferencesResolve(root, item, errors))
                    {
                        return false;
                    }
                }

                return true;
            default:
                return true;
        }
    }

    private static bool Resolves(JsonElement root, string reference)
    {
        if (reference == "#")
        {
            return true;
        }

        if (!reference.StartsWith('#'))
        {
            return false;
        }

        if (!reference.StartsWith("#/", StringComparison.Ordinal))
        {
            return HasAnchor(root, Uri.UnescapeDataString(reference[1..]));
        }

        var current = root;
        foreach (var raw in reference[2..].Split('/'))
        {
            var segment = Uri.UnescapeDataString(raw).Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal);
            if (current.ValueKind == JsonValueKind.Object && current.TryGetProperty(segment, out var next))
            {
                current = next;
            }
            else if (current.ValueKind == JsonValueKind.Array && int.TryParse(segment, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var index) && index < current.GetArrayLength())
            {
                current = current[index];
            }
            else
            {
                return false;
            }
        }

        return true;
    }

    private static bool HasAnchor(JsonElement element, string anchor) => element.ValueKind switch
    {
        JsonValueKind.Object => element.EnumerateObject().Any(m =>
            (m.Name is "$anchor" or "$dynamicAnchor" && m.Value.ValueKind == JsonValueKind.String && m.Value.GetString() == anchor) || HasAnchor(m.Value, anchor)),
        JsonValueKind.Array => element.EnumerateArray().Any(e => HasAnchor(e, anchor)),
        _ => false,
    };

    /// <summary>Builds a schema from its text (draft 2020-12); null (with the reason) when it does not compile.</summary>
    public static JsonSchema? Build(string text, List<string> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        try
        {
            using (var document = JsonDocument.Parse(text))
            {
                var root = document.RootElement;
                if (root.ValueKind is not (JsonValueKind.Object or JsonValueKind.True or JsonValueKind.False))
                {
                    errors.Add($"{SchemaProperty} must be a JSON object (or true/false), not {root.ValueKind.ToString().ToLowerInvariant()}.");
                    return null;
                }

                if (!ReferencesResolve(root, root, errors))
                {
                    return null;
                }

                if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("$schema", out var dialect)
                    && (dialect.ValueKind != JsonValueKind.String || !string.Equals(dialect.GetString()?.TrimEnd('#'), Draft202012, StringComparison.Ordinal)))
                {
                    errors.Add($"{SchemaProperty}: \"$schema\" must be \"{Draft202012}\" (or left out); only draft 2020-12 is supported.");
                    return null;
                }
            }

            // A registry of its own: a $id in one schema never clashes with another's, and nothing is fetched.
            var options = new BuildOptions { SchemaRegistry = new SchemaRegistry(), Dialect = Dialect.Draft202012 };
            return JsonSchema.FromText(text, options);
        }
        catch (JsonException ex)
        {
            errors.Add($"{SchemaProperty} is not valid JSON: {RegistryJson.Message(ex)}");
        }
#pragma warning disable CA1031 // The library reports a schema it cannot build with several exception types; each is a reason to reject the row.
        catch (Exception ex) when (ex is not OutOfMemoryException)
#pragma warning restore CA1031
        {
            errors.Add($"{SchemaProperty} does not compile as a draft 2020-12 schema: {PrintableText.Of(ex.Message)}");
        }

        return null;
    }
}
