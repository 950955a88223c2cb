using System.Text.Json;
using System.Text.Json.Serialization;

namespace FuncGateway.Model;

/// <summary>The JSON conventions of JSON values stored in registry entities (and of registry files).</summary>
public static class RegistryJson
{
    /// <summary>
    /// Web names, string enums, unknown members refused, a member given twice refused (<c>"body"</c> and <c>"Body"</c>:
    /// which one wins should not depend on the parser, as registry files already say), nulls left out when writing.
    /// </summary>
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        AllowDuplicateProperties = false,
        AllowTrailingCommas = false,
        WriteIndented = false,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>
    /// The serializer's message without .NET type names, plus the position: what an operator can act on.
    /// <paramref name="namespacesToHide"/> are removed from type names the message still carries.
    /// </summary>
    public static string Message(JsonException ex, params ReadOnlySpan<string> namespacesToHide)
    {
        ArgumentNullException.ThrowIfNull(ex);
        var where = ex.LineNumber is { } line ? $" at line {line + 1}, position {ex.BytePositionInLine + 1}" : "";
        var message = ex.Message;
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        if (cut > 0)
        {
            message = message[..cut];
        }

        foreach (var ns in namespacesToHide)
        {
            message = message.Replace(ns, "", StringComparison.Ordinal);
        }

        return message + where;
    }

    /// <summary>
    /// Reads a JSON object kept in a string property (<paramref name="name"/>), adding an error that shows
    /// <paramref name="example"/> when it is not one. Null when absent or invalid.
    /// </summary>
    public static T? ParseObject<T>(string name, string? json, string example, List<string> errors)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (json is null)
        {
            return null;
        }

        try
        {
            var value = JsonSerializer.Deserialize<T>(json, Options);
            if (value is null)
            {
                errors.Add($"{name} must be a JSON object such as {example}, not null.");
            }

            return value;
        }
        catch (JsonException ex)
        {
            errors.Add($"{name} is not valid (expected a JSON object such as {example}): {ObjectMessage(ex)}");
            return null;
        }
    }

    /// <summary>The JSON text of a value stored in a string property.</summary>
    public static string ToJson<T>(T value) => JsonSerializer.Serialize(value, Options);

    private static string ObjectMessage(JsonException ex)
    {
        var message = ex.Message;
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        if (cut > 0)
        {
            message = message[..cut];
        }

        var where = ex.Path is { Length: > 1 } path ? $" (at {path})" : "";
        return message.Replace("FuncGateway.Resilience.", "", StringComparison.Ordinal)
            .Replace("FuncGateway.Health.", "", StringComparison.Ordinal)
            .Replace("System.Collections.Generic.", "", StringComparison.Ordinal) + where;
    }
}
