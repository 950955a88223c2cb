using System.Text.Json.Serialization;
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
internal static class CacheFormat
{
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
            if (!HttpSyntax.IsToken(header))
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
            if (!CallerAttributes.Contains(attribute, StringComparer.Ordinal))
            {
                errors.Add($"{name}.caller: '{PrintableText.Of(attribute)}' is not one of {string.Join(", ", CallerAttributes)}.");
            }
            else if (d.Shared && attribute != ClientIp)
            {
                errors.Add($"{name}.caller: '{attribute}' needs \"shared\":false (a shared route caches only anonymous requests).");
            }
        }
    }
}
