using System.Text.Json;
using System.Text.Json.Serialization;
using FuncGateway.Model;

namespace FuncGateway.Discovery;

/// <summary>The pool property discovery owns.</summary>
public static class DiscoveryProperties
{
    /// <summary>An example value, shown in error messages.</summary>
    public const string Example = "{\"Source\":\"dns\",\"Name\":\"orders.internal\",\"Port\":8080}";

    /// <summary>
    /// Where the pool's instances come from besides its static <c>Instances</c>: a JSON object with a <c>Source</c>
    /// (the kind, case-insensitive) and that kind's fields. Null: static instances only.
    /// </summary>
    public static RegistryProperty<DiscoverySpecification?> Discovery { get; } = new(
        RegistryTable.Upstreams,
        "Discovery",
        null,
        static (RegistryEntityReader reader, string name, out DiscoverySpecification? value) =>
        {
            var text = reader.OptionalString(name);
            value = text is null ? null : DiscoverySpecification.Parse(text, reader.Errors);
            return value is not null;
        },
        static value => value?.Text,
        static value => value is null,
        new DiscoverySpecificationFileConverter());

    /// <summary>Every discovery property, in file order.</summary>
    public static IReadOnlyList<RegistryProperty> All { get; } = [Discovery];
}

/// <summary>A pool's <c>Discovery</c> object: its kind (the <c>Source</c> field) and the whole object for the kind's factory.</summary>
public sealed class DiscoverySpecification
{
    private DiscoverySpecification(string kind, JsonElement json, string text)
    {
        Kind = kind;
        Json = json;
        Text = text;
    }

    /// <summary>The <c>Source</c> field as written (compared case-insensitively).</summary>
    public string Kind { get; }

    /// <summary>The whole object, <c>Source</c> included.</summary>
    public JsonElement Json { get; }

    /// <summary>The object as compact JSON: what the table stores, and what tells one specification from another.</summary>
    public string Text { get; }

    /// <summary>Reads the JSON; null (with errors) when it is not an object with a non-empty string <c>Source</c>.</summary>
    public static DiscoverySpecification? Parse(string json, List<string> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        try
        {
            using var document = JsonDocument.Parse(json);
            return FromElement(document.RootElement, errors);
        }
        catch (JsonException ex)
        {
            errors.Add($"Discovery is not valid JSON ({RegistryJson.Message(ex)}); expected an object such as {DiscoveryProperties.Example}.");
            return null;
        }
    }

    internal static DiscoverySpecification? FromElement(JsonElement element, List<string> errors)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            errors.Add($"Discovery must be a JSON object such as {DiscoveryProperties.Example}.");
            return null;
        }

        string? kind = null;
        foreach (var property in element.EnumerateObject())
        {
            if (string.Equals(property.Name, "Source", StringComparison.OrdinalIgnoreCase))
            {
                kind = property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString() : null;
            }
        }

        if (string.IsNullOrWhiteSpace(kind))
        {
            errors.Add($"Discovery needs a \"Source\" string naming the kind of source (dns, srv, registration...), e.g. {DiscoveryProperties.Example}.");
            return null;
        }

        var clone = element.Clone();
        return new DiscoverySpecification(kind.Trim(), clone, JsonSerializer.Serialize(clone));
    }

    /// <inheritdoc/>
    public override string ToString() => Text;
}

/// <summary>A registry file holds the object as native JSON.</summary>
internal sealed class DiscoverySpecificationFileConverter : JsonConverter<DiscoverySpecification?>
{
    public override bool HandleNull => false;

    public override DiscoverySpecification? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        using var document = JsonDocument.ParseValue(ref reader);
        var errors = new List<string>();
        return DiscoverySpecification.FromElement(document.RootElement, errors) ?? throw new JsonException(errors[0]);
    }

    public override void Write(Utf8JsonWriter writer, DiscoverySpecification? value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        if (value is null)
        {
            writer.WriteNullValue();
            return;
        }

        value.Json.WriteTo(writer);
    }
}
