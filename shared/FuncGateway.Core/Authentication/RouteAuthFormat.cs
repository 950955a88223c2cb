using System.Text.Json;
using System.Text.Json.Serialization;

using FuncGateway.Model;

namespace FuncGateway.Authentication;

/// <summary>
/// Checks the identity properties of a route row (<c>Auth</c>, <c>Authorization</c>, <c>TokenQueryParameter</c>,
/// <c>ApiKeyQueryParameter</c>) as far as can be done without the gateway's configuration; policy names are
/// resolved later by <see cref="RouteAuthCompiler"/>.
/// </summary>
public static class RouteAuthFormat
{
    /// <summary>The message of a route without <c>Auth</c>.</summary>
    public const string AuthRequiredMessage = "Auth is required: name a policy or 'anonymous'.";

    /// <summary>The registry's JSON conventions, leaving empty lists out so a stored value says only what is required.</summary>
    internal static readonly JsonSerializerOptions JsonOptions = CreateJsonOptions();

    /// <summary>Checks <c>Auth</c>: present, and either the single word <c>anonymous</c> or distinct policy names.</summary>
    public static IReadOnlyList<string> CheckAuth(IReadOnlyList<string> names, List<string> errors)
    {
        ArgumentNullException.ThrowIfNull(names);
        ArgumentNullException.ThrowIfNull(errors);
        if (names.Count == 0)
        {
            if (!errors.Exists(static e => e.StartsWith("Auth ", StringComparison.Ordinal)))
            {
                errors.Add(AuthRequiredMessage);
            }

            return names;
        }

        var anonymous = names.Any(static n => string.Equals(n, AuthPolicies.Anonymous, StringComparison.OrdinalIgnoreCase));
        if (anonymous && names.Count > 1)
        {
            errors.Add($"Auth: '{AuthPolicies.Anonymous}' cannot be combined with policy names.");
        }

        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var name in names)
        {
            if (!IsValidPolicyName(name))
            {
                errors.Add($"Auth: '{PrintableText.Of(name)}' is not a valid policy name (letters, digits, '-', '_', '.').");
            }
            else if (!seen.Add(name))
            {
                errors.Add($"Auth: policy '{PrintableText.Of(name)}' is listed twice.");
            }
        }

        return anonymous && names.Count == 1 ? [AuthPolicies.Anonymous] : names;
    }

    /// <summary>Parses <c>Authorization</c> (JSON); null when absent or invalid (then with an error).</summary>
    public static RouteAuthorization? ParseAuthorization(string? json, List<string> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (json is null)
        {
            return null;
        }

        RouteAuthorization? value;
        try
        {
            value = JsonSerializer.Deserialize<RouteAuthorization>(json, JsonOptions);
        }
        catch (JsonException)
        {
            errors.Add("Authorization is not valid JSON of the form {\"roles\":[\"...\"],\"scopes\":[\"...\"],\"claims\":{\"type\":[\"value\"]}}.");
            return null;
        }

        if (value is null)
        {
            errors.Add("Authorization must be a JSON object, not null.");
            return null;
        }

        CheckAuthorization(value, errors);
        return value;
    }

    /// <summary>Checks that no list, item or claim type is null or empty.</summary>
    public static void CheckAuthorization(RouteAuthorization value, List<string> errors)
    {
        ArgumentNullException.ThrowIfNull(value);
        ArgumentNullException.ThrowIfNull(errors);
        if (value.Roles is null || value.Roles.Any(string.IsNullOrWhiteSpace))
        {
            errors.Add("Authorization: roles must be a list of non-empty strings.");
        }

        if (value.Scopes is null || value.Scopes.Any(string.IsNullOrWhiteSpace))
        {
            errors.Add("Authorization: scopes must be a list of non-empty strings.");
        }

        if (value.Claims is null)
        {
            errors.Add("Authorization: claims must be an object of claim type → list of values.");
            return;
        }

        foreach (var (type, values) in value.Claims)
        {
            if (string.IsNullOrWhiteSpace(type) || values is null || values.Count == 0 || values.Any(static v => v is null))
            {
                errors.Add($"Authorization: claim '{PrintableText.Of(type ?? "")}' needs a non-empty list of values.");
            }
        }
    }

    /// <summary>The JSON stored in the table for <paramref name="value"/>.</summary>
    public static string Serialize(RouteAuthorization value) => JsonSerializer.Serialize(value, JsonOptions);

    private static JsonSerializerOptions CreateJsonOptions()
    {
        var options = new JsonSerializerOptions(RegistryJson.Options)
        {
            TypeInfoResolver = new System.Text.Json.Serialization.Metadata.DefaultJsonTypeInfoResolver
            {
                Modifiers =
                {
                    static info =>
                    {
                        foreach (var property in info.Properties)
                        {
                            if (typeof(System.Collections.ICollection).IsAssignableFrom(property.PropertyType)
                                || property.PropertyType.IsGenericType && property.PropertyType.GetGenericTypeDefinition() is { } g
                                    && (g == typeof(IReadOnlyList<>) || g == typeof(IReadOnlyDictionary<,>)))
                            {
                                property.ShouldSerialize = static (_, value) => value is System.Collections.ICollection { Count: > 0 }
                                    || value is System.Collections.IEnumerable e && e.GetEnumerator().MoveNext();
                            }
                        }
                    },
                },
            },
        };
        options.MakeReadOnly();
        return options;
    }

    /// <summary>Checks a query parameter name a route lets credentials come from.</summary>
    public static string? CheckQueryParameter(string property, string? name, List<string> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (name is null)
        {
            return null;
        }

        foreach (var c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '~'))
            {
                errors.Add($"{property} '{PrintableText.Of(name)}' is not a plain query parameter name (letters, digits, '-', '_', '.', '~').");
                return null;
            }
        }

        return name;
    }

    /// <summary>Letters, digits, '-', '_' and '.', 1 to 64 characters.</summary>
    public static bool IsValidPolicyName(string name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > 64)
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
            {
                return false;
            }
        }

        return true;
    }
}

/// <summary>Reads <c>Auth</c> in a registry file as a string (<c>"anonymous"</c>, <c>"a,b"</c>) or an array of strings.</summary>
public sealed class AuthListJsonConverter : JsonConverter<IReadOnlyList<string>>
{
    public override IReadOnlyList<string> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.String)
        {
            return reader.GetString()!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        }

        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw new JsonException("Auth must be a string (a policy name, comma-separated names, or \"anonymous\") or an array of names.");
        }

        var items = new List<string>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.String || string.IsNullOrWhiteSpace(reader.GetString()))
            {
                throw new JsonException("Auth: every item must be a non-empty policy name.");
            }

            items.Add(reader.GetString()!.Trim());
        }

        return items;
    }

    public override void Write(Utf8JsonWriter writer, IReadOnlyList<string> value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(value);
        if (value.Count == 1)
        {
            writer.WriteStringValue(value[0]);
            return;
        }

        writer.WriteStartArray();
        foreach (var item in value)
        {
            writer.WriteStringValue(item);
        }

        writer.WriteEndArray();
    }
}
