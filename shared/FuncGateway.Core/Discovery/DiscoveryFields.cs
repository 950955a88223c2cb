using System.Text.Json;

namespace FuncGateway.Discovery;

/// <summary>
/// Reads the fields of a pool's <c>Discovery</c> object for a source factory: names compared case-insensitively,
/// every problem added to the errors as "Discovery (kind): ...", unknown fields refused.
/// </summary>
internal sealed class DiscoveryFields
{
    private readonly Dictionary<string, JsonElement> _fields = new(StringComparer.OrdinalIgnoreCase);
    private readonly string _kind;
    private readonly List<string> _errors;

    public DiscoveryFields(string kind, JsonElement specification, List<string> errors, params string[] known)
    {
        _kind = kind;
        _errors = errors;
        foreach (var property in specification.EnumerateObject())
        {
            if (string.Equals(property.Name, "Source", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            if (!known.Contains(property.Name, StringComparer.OrdinalIgnoreCase))
            {
                Error($"unknown field \"{property.Name}\". Known: Source{(known.Length == 0 ? "" : ", " + string.Join(", ", known))}.");
                continue;
            }

            _fields[property.Name] = property.Value;
        }
    }

    public void Error(string message) => _errors.Add($"Discovery ({_kind}): {message}");

    public string? String(string name, bool required = false)
    {
        if (!_fields.TryGetValue(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            if (required)
            {
                Error($"\"{name}\" is required.");
            }

            return null;
        }

        if (value.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(value.GetString()))
        {
            Error($"\"{name}\" must be a non-empty string.");
            return null;
        }

        return value.GetString()!.Trim();
    }

    public int? Number(string name, int min, int max, bool required = false)
    {
        if (!_fields.TryGetValue(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            if (required)
            {
                Error($"\"{name}\" is required ({min}–{max}).");
            }

            return null;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out var number) || number < min || number > max)
        {
            Error($"\"{name}\" must be a whole number from {min} to {max}.");
            return null;
        }

        return number;
    }

    /// <summary><c>Scheme</c>: <c>http</c> (default) or <c>https</c>.</summary>
    public string Scheme()
    {
        var scheme = String("Scheme")?.ToLowerInvariant() ?? "http";
        if (scheme is not ("http" or "https"))
        {
            Error("\"Scheme\" must be http or https.");
        }

        return scheme;
    }

    /// <summary><c>BasePath</c>: empty, or a path starting with <c>/</c> without query or fragment, prefixed to every forwarded path.</summary>
    public string BasePath()
    {
        var path = String("BasePath");
        if (path is null)
        {
            return "";
        }

        if (!path.StartsWith('/') || path.Contains('?', StringComparison.Ordinal) || path.Contains('#', StringComparison.Ordinal) || path.Contains("//", StringComparison.Ordinal))
        {
            Error("\"BasePath\" must start with / and hold no query, fragment or empty segment.");
            return "";
        }

        return path.TrimEnd('/');
    }

    /// <summary>A DNS name: letters, digits, <c>-</c> and <c>_</c> in dot-separated labels (a trailing dot allowed).</summary>
    public string? DnsName(string name)
    {
        var value = String(name, required: true);
        if (value is null)
        {
            return null;
        }

        var labels = value.TrimEnd('.').Split('.');
        if (value.Length > 253 || labels.Any(static l => l.Length is 0 or > 63 || !l.All(static c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_')))
        {
            Error($"\"{name}\" '{Model.PrintableText.Of(value)}' is not a DNS name.");
            return null;
        }

        return value.TrimEnd('.');
    }
}
