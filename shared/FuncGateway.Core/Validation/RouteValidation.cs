using FuncGateway.Model;
using Json.Schema;
using Microsoft.Net.Http.Headers;

namespace FuncGateway.Validation;

/// <summary>
/// A route's <c>Validation</c>, compiled once per snapshot: the media types its bodies may have, its body limit, what
/// it checks in JSON bodies (limits, schema, injection), its query and header rules. Only a route that checks JSON
/// bodies buffers them (<see cref="ValidatesJsonBodies"/>); every other route keeps streaming.
/// </summary>
internal sealed class RouteValidation
{
    /// <summary>The most a route that checks JSON bodies may buffer: 16 MiB.</summary>
    public const long MaxBufferedBodyBytes = 16L * 1024 * 1024;

    /// <summary>What such a route buffers without its own <c>maxBodyBytes</c>: 1 MiB (or the global limit when lower).</summary>
    public const long DefaultBufferedBodyBytes = 1024 * 1024;

    /// <summary>The largest <c>maxBodyBytes</c> a route may set: 1 TiB (a host's own cap, 100 MB on Functions, still applies).</summary>
    public const long MaxBodyBytesLimit = 1L << 40;

    private static readonly MediaTypeHeaderValue[] JsonTypes =
        [MediaTypeHeaderValue.Parse("application/json"), MediaTypeHeaderValue.Parse("application/*+json")];

    // Not accepted by default, but JSON to ASP.NET Core's [FromBody] (and others): checked when a route accepts it.
    private static readonly MediaTypeHeaderValue TextJson = MediaTypeHeaderValue.Parse("text/json");

    private RouteValidation(
        string schemaName,
        MediaTypeHeaderValue[] contentTypes,
        long? maxBodyBytes,
        long bufferLimit,
        JsonLimits? jsonLimits,
        JsonSchema? schema,
        ParameterRule[] query,
        ParameterRule[] headers,
        bool rejectRepeated,
        InjectionScreen? injection)
    {
        SchemaName = schemaName;
        ContentTypes = contentTypes;
        MaxBodyBytes = maxBodyBytes;
        BufferLimit = bufferLimit;
        JsonLimits = jsonLimits;
        Schema = schema;
        Query = query;
        QueryNames = Array.ConvertAll(query, static rule => (string?)rule.Name);
        Headers = headers;
        RejectRepeated = rejectRepeated;
        Injection = injection;
    }

    /// <summary>Allowed body media types; empty: any.</summary>
    public MediaTypeHeaderValue[] ContentTypes { get; }

    /// <summary>The route's own body limit; null: the global one.</summary>
    public long? MaxBodyBytes { get; }

    /// <summary>How many bytes of a JSON body are buffered at most (the route's effective limit).</summary>
    public long BufferLimit { get; }

    /// <summary>Limits on JSON bodies; null when the route does not parse them.</summary>
    public JsonLimits? JsonLimits { get; }

    public JsonSchema? Schema { get; }

    public string SchemaName { get; }

    public ParameterRule[] Query { get; }

    /// <summary>The names of <see cref="Query"/>'s rules, for <see cref="FuncGateway.Model.QueryStringEditor.Shield"/>.</summary>
    public string?[] QueryNames { get; }

    public ParameterRule[] Headers { get; }

    public bool RejectRepeated { get; }

    public InjectionScreen? Injection { get; }

    /// <summary>The route reads JSON bodies (limits, schema or injection screening): it buffers them.</summary>
    public bool ValidatesJsonBodies => JsonLimits is not null;

    /// <summary>
    /// Checks and compiles a definition. <paramref name="schemas"/> null: the format only (the registry reader and
    /// <c>fgw</c>, which do not see the Schemas table); otherwise the named schema must be there.
    /// </summary>
    public static RouteValidation? Create(ValidationDefinition definition, RequestSchemas? schemas, long globalMaxBodyBytes, List<string> errors)
    {
        ArgumentNullException.ThrowIfNull(definition);
        ArgumentNullException.ThrowIfNull(errors);
        var count = errors.Count;

        var contentTypes = new List<MediaTypeHeaderValue>();
        foreach (var text in definition.ContentTypes ?? [])
        {
            if (text is null || !MediaTypeHeaderValue.TryParse(text, out var type) || type.Parameters.Count > 0
                || (type.MatchesAllTypes && !type.MatchesAllSubTypes))
            {
                errors.Add($"Validation contentTypes: '{PrintableText.Of(text ?? "null")}' is not a media type such as application/json, text/* or application/*+json (without parameters).");
                continue;
            }

            contentTypes.Add(type);
        }

        if (definition.ContentTypes is { Count: 0 })
        {
            errors.Add("Validation contentTypes is empty: list at least one media type, or leave it out to accept any.");
        }

        if (definition.MaxBodyBytes is < 0 or > MaxBodyBytesLimit)
        {
            errors.Add($"Validation maxBodyBytes {definition.MaxBodyBytes} is outside 0–{MaxBodyBytesLimit}.");
        }

        var schemaName = definition.Schema;
        JsonSchema? schema = null;
        if (schemaName is not null)
        {
            if (string.IsNullOrWhiteSpace(schemaName))
            {
                errors.Add("Validation schema is blank: name a schema of the Schemas table, or leave it out.");
            }
            else if (schemas is not null && !schemas.Schemas.TryGetValue(schemaName, out schema))
            {
                errors.Add(schemas.Rejected.Contains(schemaName)
                    ? $"Validation schema '{PrintableText.Of(schemaName)}' exists but was rejected; fix that schema row first."
                    : $"Validation schema '{PrintableText.Of(schemaName)}' is not in the Schemas table.");
            }
        }

        var injection = InjectionScreen.Create(definition.Injection, errors);
        var parsesJson = definition.Json is not null || schemaName is not null || injection is not null;
        var jsonLimits = parsesJson ? JsonLimits.Create(definition.Json, errors) : null;

        // A route that reads JSON accepts JSON unless it says otherwise.
        if (parsesJson && definition.ContentTypes is null)
        {
            contentTypes.AddRange(JsonTypes);
        }

        var limit = definition.MaxBodyBytes ?? globalMaxBodyBytes;
        var bufferLimit = definition.MaxBodyBytes ?? Math.Min(globalMaxBodyBytes, DefaultBufferedBodyBytes);
        if (parsesJson && definition.MaxBodyBytes > MaxBufferedBodyBytes)
        {
            errors.Add($"Validation maxBodyBytes {definition.MaxBodyBytes} is above {MaxBufferedBodyBytes}: a route that checks JSON bodies buffers them, up to 16 MiB.");
        }

        var query = Rules("query", definition.Query, StringComparer.Ordinal, isHeader: false, errors);
        var headers = Rules("headers", definition.Headers, StringComparer.OrdinalIgnoreCase, isHeader: true, errors);

        if (errors.Count > count)
        {
            return null;
        }

        return new RouteValidation(schemaName ?? "", [.. contentTypes], definition.MaxBodyBytes, Math.Min(limit, bufferLimit), jsonLimits, schema,
            query, headers, definition.RejectRepeated ?? false, injection);
    }

    private static ParameterRule[] Rules(string member, IReadOnlyDictionary<string, ParameterRuleDefinition>? definitions, StringComparer comparer, bool isHeader, List<string> errors)
    {
        var rules = new List<ParameterRule>();
        var seen = new HashSet<string>(comparer);
        foreach (var (name, definition) in definitions ?? new Dictionary<string, ParameterRuleDefinition>())
        {
            var where = $"Validation {member} '{PrintableText.Of(name)}'";
            if (string.IsNullOrEmpty(name) || (isHeader && !HttpSyntax.IsToken(name)))
            {
                errors.Add($"{where}: not a valid {(isHeader ? "header" : "parameter")} name.");
                continue;
            }

            if (!seen.Add(name))
            {
                errors.Add($"{where}: listed twice (header names are case-insensitive).");
                continue;
            }

            if (ParameterRule.Create(where, name, definition, errors) is { } rule)
            {
                rules.Add(rule);
            }
        }

        return [.. rules];
    }

    /// <summary>Whether a body of <paramref name="contentType"/> may be sent (any, when the route lists none).</summary>
    /// <param name="contentType">The request's <c>Content-Type</c>.</param>
    /// <param name="isJson">The body is JSON (<c>application/json</c>, <c>application/*+json</c>, <c>text/json</c>).</param>
    /// <param name="charset">Its <c>charset</c> parameter, unquoted; null without one.</param>
    public bool AcceptsContentType(string? contentType, out bool isJson, out string? charset)
    {
        isJson = false;
        charset = null;
        if (string.IsNullOrEmpty(contentType) || !MediaTypeHeaderValue.TryParse(contentType, out var type))
        {
            return ContentTypes.Length == 0;
        }

        charset = type.Charset is { Length: > 0 } declared ? declared.ToString().Trim('"') : null;
        isJson = type.IsSubsetOf(JsonTypes[0]) || type.IsSubsetOf(JsonTypes[1]) || type.IsSubsetOf(TextJson);
        if (ContentTypes.Length == 0)
        {
            return true;
        }

        foreach (var allowed in ContentTypes)
        {
            if (type.IsSubsetOf(allowed))
            {
                return true;
            }
        }

        return false;
    }
}
