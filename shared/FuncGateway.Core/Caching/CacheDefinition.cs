using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using FuncGateway.Model;

namespace FuncGateway.Caching;

/// <summary>
/// A route's <c>Cache</c> property (a JSON object), see docs/caching.md. Only GET and HEAD are ever answered from the
/// cache; only GET responses are stored.
/// </summary>
public sealed record CacheDefinition
{
    /// <summary>How long a stored response is fresh, in seconds (1 to 31536000). Required.</summary>
    public int TtlSeconds { get; init; }

    /// <summary>
    /// True (the default): one entry serves every caller, and requests that carry credentials (an <c>Authorization</c>
    /// header, a cookie, an authenticated identity) are never cached. False: per-caller entries keyed by the
    /// authenticated identity; anonymous requests are never cached.
    /// </summary>
    public bool Shared { get; init; } = true;

    /// <summary>
    /// The query parameters in the key. Null (absent): the whole query. A list: only these (case-sensitive), and on
    /// shared routes the others are removed from the request the upstream receives, so they cannot change what is stored.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? Query { get; init; }

    /// <summary>
    /// Request headers in the key (case-insensitive). On shared routes these are the only client headers the upstream
    /// receives on a request that may be stored.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? Headers { get; init; }

    /// <summary>Caller attributes in the key: <c>clientIp</c>; on per-caller routes also <c>userId</c>, <c>consumerId</c>, <c>tier</c>.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? Caller { get; init; }

    /// <summary>When true, the upstream's <c>s-maxage</c> (else <c>max-age</c>) shortens the TTL (never lengthens it).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool UpstreamMaxAge { get; init; }

    /// <summary>Seconds past freshness during which a stale entry answers instead of an upstream failure (0 to 604800).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public int StaleIfErrorSeconds { get; init; }

    /// <summary>Seconds past freshness during which a stale entry answers while one request refreshes it (0 to 604800).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public int StaleWhileRevalidateSeconds { get; init; }
}

/// <summary>Reading and checking the <c>Cache</c> property.</summary>
internal static partial class CacheFormat
{
    /// <summary>The route property (owned by Transforms) whose templates may read client input.</summary>
    public const string TransformsProperty = "Transforms";

    public const string Example = "{\"ttlSeconds\":60,\"query\":[\"page\"],\"headers\":[\"Accept-Language\"]}";
    public const int MaxTtlSeconds = 31_536_000;
    public const int MaxStaleSeconds = 604_800;

    public const string ClientIp = "clientIp";
    public const string UserId = "userId";
    public const string ConsumerId = "consumerId";
    public const string Tier = "tier";

    private static readonly string[] CallerAttributes = [ClientIp, UserId, ConsumerId, Tier];

    // Credentials are keyed by identity on per-caller routes, never by their value.
    private static readonly string[] CredentialHeaders = ["Authorization", "Proxy-Authorization", "Cookie"];

    public static CacheDefinition? Parse(string name, string json, List<string> errors)
    {
        var definition = RegistryJson.ParseObject<CacheDefinition>(name, json, Example, errors);
        if (definition is null)
        {
            return null;
        }

        var start = errors.Count;
        Check(name, definition, errors);
        return errors.Count > start ? null : definition;
    }

    public static void Check(string name, CacheDefinition d, List<string> errors)
    {
        if (d.TtlSeconds is < 1 or > MaxTtlSeconds)
        {
            errors.Add($"{name}.ttlSeconds must be between 1 and {MaxTtlSeconds} (got {d.TtlSeconds}).");
        }

        if (d.StaleIfErrorSeconds is < 0 or > MaxStaleSeconds)
        {
            errors.Add($"{name}.staleIfErrorSeconds must be between 0 and {MaxStaleSeconds}.");
        }

        if (d.StaleWhileRevalidateSeconds is < 0 or > MaxStaleSeconds)
        {
            errors.Add($"{name}.staleWhileRevalidateSeconds must be between 0 and {MaxStaleSeconds}.");
        }

        foreach (var parameter in d.Query ?? [])
        {
            if (string.IsNullOrWhiteSpace(parameter) || parameter.Length > 256)
            {
                errors.Add($"{name}.query holds an empty or over-long parameter name.");
            }
        }

        foreach (var header in d.Headers ?? [])
        {
            if (header is null)
            {
                errors.Add($"{name}.headers holds null; list header names as strings.");
            }
            else if (!HttpSyntax.IsToken(header))
            {
                errors.Add($"{name}.headers: '{PrintableText.Of(header)}' is not a header name.");
            }
            else if (CredentialHeaders.Contains(header, StringComparer.OrdinalIgnoreCase))
            {
                errors.Add($"{name}.headers may not name {header}: a per-caller route (\"shared\":false) keys credentials by the authenticated identity, and a shared route never caches requests that carry them.");
            }
        }

        foreach (var attribute in d.Caller ?? [])
        {
            if (attribute is null)
            {
                errors.Add($"{name}.caller holds null; list the attributes as strings ({string.Join(", ", CallerAttributes)}).");
            }
            else if (!CallerAttributes.Contains(attribute, StringComparer.Ordinal))
            {
                errors.Add($"{name}.caller: '{PrintableText.Of(attribute)}' is not one of {string.Join(", ", CallerAttributes)}.");
            }
            else if (d.Shared && attribute != ClientIp)
            {
                errors.Add($"{name}.caller: '{attribute}' needs \"shared\":false (a shared route caches only anonymous requests).");
            }
        }
    }

    /// <summary>
    /// The route's own <c>Transforms</c> run after the cache removed unkeyed input, but their templates read what the
    /// client sent: a <c>{Header:name}</c> (on a shared route) or <c>{Query:name}</c> (with a query list) the key does not
    /// hold would let unkeyed input change what is stored.
    /// </summary>
    public static void CheckTransformInputs(string? transformsJson, CacheDefinition definition, List<string> errors)
    {
        if (transformsJson is null)
        {
            return;
        }

        foreach (Match match in TemplateInput().Matches(transformsJson))
        {
            var name = match.Groups["name"].Value.Trim();
            var isHeader = match.Groups["kind"].Value.Equals("Header", StringComparison.OrdinalIgnoreCase);
            if (isHeader && definition.Shared && !(definition.Headers ?? []).Contains(name, StringComparer.OrdinalIgnoreCase))
            {
                errors.Add($"Cache: the route's Transforms read the client's header '{PrintableText.Of(name)}' ({{Header:{PrintableText.Of(name)}}}), which the key does not hold: name it in Cache.headers, or a stored response could depend on it.");
            }
            else if (!isHeader && definition.Query is { } query && !query.Contains(name, StringComparer.OrdinalIgnoreCase))
            {
                errors.Add($"Cache: the route's Transforms read the query parameter '{PrintableText.Of(name)}' ({{Query:{PrintableText.Of(name)}}}), which the key does not hold: name it in Cache.query, or a stored response could depend on it.");
            }
        }
    }

    [GeneratedRegex(@"\{(?<kind>Header|Query):(?<name>[^}]+)\}", RegexOptions.IgnoreCase)]
    private static partial Regex TemplateInput();
}
