using System.Text.Json;
using System.Text.Json.Serialization;

namespace FuncGateway.Transforms;

/// <summary>
/// One item of a route's <c>Transforms</c> list as written: a JSON object whose members are all strings, in YARP's
/// style (<c>{"RequestHeader":"X-Api-Version","Set":"2"}</c>). Member names compare case-insensitively and may not
/// repeat; their order and spelling are kept, so the item is written back as it was read. Compared by value.
/// </summary>
[JsonConverter(typeof(TransformDefinitionConverter))]
public sealed class TransformDefinition : IEquatable<TransformDefinition>
{
    /// <param name="members">The members in their order; names unique (case-insensitively).</param>
    public TransformDefinition(IReadOnlyList<KeyValuePair<string, string>> members)
    {
        ArgumentNullException.ThrowIfNull(members);
        Members = members;
    }

    /// <summary>The members in the order they were written.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Members { get; }

    /// <summary>The value of a member (name compared case-insensitively), or null.</summary>
    public string? this[string name]
    {
        get
        {
            foreach (var (key, value) in Members)
            {
                if (string.Equals(key, name, StringComparison.OrdinalIgnoreCase))
                {
                    return value;
                }
            }

            return null;
        }
    }

    /// <inheritdoc/>
    public bool Equals(TransformDefinition? other) =>
        other is not null && Members.Count == other.Members.Count && Members.SequenceEqual(other.Members);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as TransformDefinition);

    /// <inheritdoc/>
    public override int GetHashCode() => Members.Count == 0 ? 0 : HashCode.Combine(Members.Count, Members[0].Key, Members[0].Value);

    /// <inheritdoc/>
    public override string ToString() => JsonSerializer.Serialize(this);
}

/// <summary>Reads and writes a <see cref="TransformDefinition"/> as a JSON object of strings.</summary>
internal sealed class TransformDefinitionConverter : JsonConverter<TransformDefinition>
{
    public override TransformDefinition Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("Each transform must be a JSON object such as {\"RequestHeader\":\"X-Api-Version\",\"Set\":\"2\"}.");
        }

        var members = new List<KeyValuePair<string, string>>(3);
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            var name = reader.GetString()!;
            reader.Read();
            if (reader.TokenType != JsonTokenType.String)
            {
                throw new JsonException($"Transform member '{name}' must be a JSON string (write \"410\", not 410).");
            }

            foreach (var (existing, _) in members)
            {
                if (string.Equals(existing, name, StringComparison.OrdinalIgnoreCase))
                {
                    throw new JsonException($"Transform member '{name}' is given twice.");
                }
            }

            members.Add(new(name, reader.GetString()!));
        }

        return new TransformDefinition(members);
    }

    public override void Write(Utf8JsonWriter writer, TransformDefinition value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        foreach (var (name, member) in value.Members)
        {
            writer.WriteString(name, member);
        }

        writer.WriteEndObject();
    }
}
