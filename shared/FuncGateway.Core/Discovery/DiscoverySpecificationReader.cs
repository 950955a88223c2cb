using System.Text.Json;

namespace FuncGateway.Discovery;

/// <summary>
/// Reads the fields of one pool's <c>Discovery</c> JSON object for a source factory, collecting every problem (an
/// unknown field, a missing or mistyped value) as one error that names the field, so a row is rejected with all of
/// its reasons at once. Field names are case-sensitive, like the registry's own properties.
/// </summary>
internal sealed class DiscoverySpecificationReader
{
    private readonly JsonElement _specification;
    private readonly string _kind;
    private readonly List<string> _errors;
    private readonly int _errorsBefore;

    private DiscoverySpecificationReader(JsonElement specification, string kind, List<string> errors)
    {
        _specification = specification;
        _kind = kind;
        _errors = errors;
        _errorsBefore = errors.Count;
    }

    /// <summary>True when no field read so far had a problem.</summary>
    public bool IsValid => _errors.Count == _errorsBefore;

    /// <summary>
    /// Opens <paramref name="specification"/> when it is a JSON object whose fields are all <c>Source</c> or one of
    /// <paramref name="fields"/>; otherwise adds the errors and returns null.
    /// </summary>
    public static DiscoverySpecificationReader? Open(JsonElement specification, string kind, IReadOnlyCollection<string> fields, List<string> errors)
    {
        ArgumentNullException.ThrowIfNull(fields);
        ArgumentNullException.ThrowIfNull(errors);
        if (specification.ValueKind != JsonValueKind.Object)
        {
            errors.Add($"Discovery ({kind}): must be a JSON object, not {specification.ValueKind}.");
            return null;
        }

        var reader = new DiscoverySpecificationReader(specification, kind, errors);
        foreach (var property in specification.EnumerateObject())
        {
            if (property.Name != "Source" && !fields.Contains(property.Name))
            {
                errors.Add($"Discovery ({kind}): '{property.Name}' is not a known field. Known: Source, {string.Join(", ", fields)}.");
            }
        }

        return reader;
    }

    /// <summary>A string field; null when absent (an error when <paramref name="required"/>) or not a non-empty string.</summary>
    public string? Text(string name, bool required)
    {
        if (!_specification.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            if (required)
            {
                _errors.Add($"Discovery ({_kind}): '{name}' is required.");
            }

            return null;
        }

        if (value.ValueKind != JsonValueKind.String || value.GetString() is not { Length: > 0 } text || string.IsNullOrWhiteSpace(text))
        {
            _errors.Add($"Discovery ({_kind}): '{name}' must be a non-empty string.");
            return null;
        }

        return text;
    }

    /// <summary>The <c>Scheme</c> field: <c>http</c> (the default) or <c>https</c>, lower-cased.</summary>
    public string Scheme()
    {
        var scheme = Text("Scheme", required: false);
        if (scheme is null)
        {
            return Uri.UriSchemeHttp;
        }

        if (!string.Equals(scheme, Uri.UriSchemeHttp, StringComparison.OrdinalIgnoreCase) && !string.Equals(scheme, Uri.UriSchemeHttps, StringComparison.OrdinalIgnoreCase))
        {
            Fail("Scheme", $"must be 'http' or 'https', not '{scheme}'");
            return Uri.UriSchemeHttp;
        }

        return scheme.ToLowerInvariant();
    }

    /// <summary>Adds an error about <paramref name="name"/>.</summary>
    public void Fail(string name, string problem) => _errors.Add($"Discovery ({_kind}): '{name}' {problem}.");
}
