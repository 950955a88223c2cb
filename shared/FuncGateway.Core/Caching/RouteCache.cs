using System.Collections.Frozen;
using System.Text;
using FuncGateway.Model;
using Microsoft.AspNetCore.Http;

namespace FuncGateway.Caching;

/// <summary>A route's cache settings compiled once per snapshot: what goes into the key, what the upstream may see.</summary>
internal sealed class RouteCache : IRouteFeatureLink
{
    private const char Separator = '\u001e';

    // Gateway-made request headers: the upstream keeps receiving them on a shared route (they are keyed or constant).
    private static readonly string[] GatewayHeaders = ["Host", "X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host"];

    // Completed by Link (when the snapshot is built, before any request) with the input that chooses the route.
    private string[] _headers;
    private FrozenSet<string>? _query;
    private string[] _bracketedQuery = [];
    private readonly bool _clientIp;
    private readonly bool _userId;
    private readonly bool _consumerId;
    private readonly bool _tier;
    private readonly bool _preserveHost;

    public RouteCache(RouteDefinition route, CacheDefinition definition)
    {
        RouteId = route.Id;
        Definition = definition;
        Ttl = TimeSpan.FromSeconds(definition.TtlSeconds);
        StaleIfError = TimeSpan.FromSeconds(definition.StaleIfErrorSeconds);
        StaleWhileRevalidate = TimeSpan.FromSeconds(definition.StaleWhileRevalidateSeconds);
        _headers = [.. (definition.Headers ?? []).Distinct(StringComparer.OrdinalIgnoreCase).Order(StringComparer.OrdinalIgnoreCase)];
        _query = definition.Query?.ToFrozenSet(StringComparer.OrdinalIgnoreCase);
        var caller = definition.Caller ?? [];
        _clientIp = caller.Contains(CacheFormat.ClientIp);
        _userId = caller.Contains(CacheFormat.UserId);
        _consumerId = caller.Contains(CacheFormat.ConsumerId);
        _tier = caller.Contains(CacheFormat.Tier);
        _preserveHost = route.PreserveHost;
        KeptHeaders = _headers.Concat(GatewayHeaders).ToFrozenSet(StringComparer.OrdinalIgnoreCase);
    }

    public string RouteId { get; }

    public CacheDefinition Definition { get; }

    public bool Shared => Definition.Shared;

    public TimeSpan Ttl { get; }

    public TimeSpan StaleIfError { get; }

    public TimeSpan StaleWhileRevalidate { get; }

    /// <summary>The query parameters in the key, names matched ignoring case; null: all of them.</summary>
    public FrozenSet<string>? QueryParameters => _query;

    /// <summary>On a shared route, the only request headers the upstream receives on a request that may be stored.</summary>
    public FrozenSet<string> KeptHeaders { get; private set; }

    /// <summary>
    /// What chooses the route beyond its path (the API version's header, <c>Accept</c> or query parameter) joins the
    /// keyed headers and parameters: the upstream must receive it, or it answers the same for every version (and
    /// that answer would be stored under each version's route), and the key must hold it like any keyed input.
    /// </summary>
    public void Link(IEnumerable<object> features)
    {
        ArgumentNullException.ThrowIfNull(features);
        foreach (var feature in features)
        {
            if (feature is not IRouteSelectingInput input)
            {
                continue;
            }

            _headers = [.. _headers.Concat(input.SelectingHeaders).Distinct(StringComparer.OrdinalIgnoreCase).Order(StringComparer.OrdinalIgnoreCase)];
            KeptHeaders = _headers.Concat(GatewayHeaders).ToFrozenSet(StringComparer.OrdinalIgnoreCase);
            if (_query is not null && input.SelectingQueryParameters.Count > 0)
            {
                _query = _query.Concat(input.SelectingQueryParameters).ToFrozenSet(StringComparer.OrdinalIgnoreCase);
                _bracketedQuery = [.. _bracketedQuery.Concat(input.SelectingQueryParameters)];
            }
        }
    }

    /// <summary>Whether a query parameter (its decoded name) is keyed: listed, or a bracketed form of a parameter that chooses the route.</summary>
    private bool IsKeyed(string name)
    {
        if (_query!.Contains(name))
        {
            return true;
        }

        foreach (var parameter in _bracketedQuery)
        {
            if (QueryStringEditor.IsBracketedForm(name, parameter))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// The primary key: route, normalised path (as the server decoded it and removed dot segments, with how the
    /// upstream address reads its encoded slashes), the keyed query parameters exactly as sent, scheme, the host the
    /// upstream learns (the vouched public host, or the client's host when the route preserves it), keyed headers and
    /// caller attributes, and on a per-caller route the caller's identity.
    /// </summary>
    public string PrimaryKey(HttpContext context, GatewayRequestFeature feature)
    {
        var request = context.Request;
        var key = new StringBuilder(128);
        var path = request.Path.Value ?? "";
        AppendField(key.Append(RouteId).Append(Separator), path);
        if (path.Contains('%') && !UpstreamAddress.KeepsEncodedSlashes(context))
        {
            // "%2F" in the decoded path is an encoded slash for one client ("/a%2Fb") and an encoded '%' followed by
            // "2F" for another ("/a%252Fb"); the upstream receives them differently, so they are different entries.
            key.Append("\u001f%25");
        }

        key.Append(Separator);
        AppendQuery(key, request.QueryString);
        key.Append(Separator).Append(feature.ClientScheme)
            .Append(Separator).Append(feature.PublicHost)
            .Append(Separator).Append(_preserveHost ? request.Host.Value?.ToLowerInvariant() : null);
        foreach (var name in _headers)
        {
            AppendField(key.Append(Separator).Append(name).Append('='), request.Headers[name].ToString());
        }

        if (_clientIp)
        {
            key.Append(Separator).Append("ip=").Append(feature.ClientAddress?.ToString());
        }

        if (!Shared && feature.Identity is { } identity)
        {
            // The caller: who the accepting policy says it is, never the credential itself.
            AppendField(key.Append(Separator).Append("id="), identity.Policy);
            AppendField(key.Append('|'), identity.UserId);
            AppendField(key.Append('|'), identity.ConsumerId);
            AppendField(key.Append('|'), identity.KeyId);

            // And all else the upstream learns about it (the identity headers): one user's tokens may differ in
            // scopes, roles or mapped claims, and the upstream may answer each differently.
            AppendIdentityHeaders(key, identity);

            // A policy that forwards the token lets the upstream read every claim of it (acr, amr, auth_time: a
            // step-up and a plain token of one user), so each token is its own caller.
            if (identity.ForwardedCredentialDigest is { } credential)
            {
                key.Append(Separator).Append("cred=").Append(credential);
            }
            if (_userId)
            {
                AppendField(key.Append(Separator).Append("user="), identity.UserId);
            }

            if (_consumerId)
            {
                AppendField(key.Append(Separator).Append("consumer="), identity.ConsumerId);
            }

            if (_tier)
            {
                AppendField(key.Append(Separator).Append("tier="), identity.Tier);
            }
        }

        return key.ToString();
    }

    private static void AppendIdentityHeaders(StringBuilder key, GatewayIdentity identity)
    {
        AppendField(key.Append('|'), identity.Email);
        AppendField(key.Append('|'), identity.Tier);
        AppendList(key.Append('|'), identity.Roles);
        AppendList(key.Append('|'), identity.Scopes);
        foreach (var (name, values) in identity.ExtraHeaders)
        {
            AppendList(AppendField(key.Append('|'), name), values);
        }
    }

    private static void AppendList(StringBuilder key, IReadOnlyList<string> values)
    {
        key.Append(values.Count).Append(':');
        for (var i = 0; i < values.Count; i++)
        {
            AppendField(key, values[i]);
        }
    }

    /// <summary>
    /// Appends a value a client or a token chose, preceded by its length: such a value may hold the separators (a
    /// header value may carry U+001E, a decoded path too, a user id '|'), and without its length one key's fields could
    /// read as another's (U+001E and "B=y" after "x" in one header, or "x" in it and "y" in the next).
    /// </summary>
    internal static StringBuilder AppendField(StringBuilder key, string? value) =>
        key.Append(value?.Length ?? 0).Append(':').Append(value);

    /// <summary>
    /// The query the upstream may receive on a request that may be stored: with a <c>query</c> list, only the
    /// parameters whose (decoded) name it lists, ignoring case, each exactly as the client sent it, in the client's order.
    /// </summary>
    public QueryString KeptQuery(QueryString query)
    {
        if (_query is null || !query.HasValue)
        {
            return query;
        }

        var kept = new StringBuilder(query.Value!.Length);
        foreach (var part in Parts(query.Value!))
        {
            if (IsKeyed(part.Name))
            {
                kept.Append(kept.Length == 0 ? '?' : '&').Append(part.Raw);
            }
        }

        return kept.Length == 0 ? QueryString.Empty : new QueryString(kept.ToString());
    }

    private void AppendQuery(StringBuilder key, QueryString query)
    {
        if (!query.HasValue)
        {
            return;
        }

        // The parameters the upstream receives, exactly as sent (never decoded: "a+b" and "a%20b", "a" and "A", "x" and
        // "x=" may mean different things to it), sorted by name with the values of one name in order, so that ?b=2&a=1
        // and ?a=1&b=2 share an entry. A part holds no '&' and no separator, so none can pass for another. A query with
        // a ';' keeps the client's order: a server that reads ';' as a separator (Python before 3.9.2, some Java
        // stacks) finds parameters inside a part ("a=1;b=2" holds a b), and ?a=1;b=2&b=3 gives it b=2,3 where
        // ?b=3&a=1;b=2 gives b=3,2; sorted by the part's name, both would be one entry.
        var text = query.Value!;
        var parts = new List<QueryPart>();
        foreach (var part in Parts(text))
        {
            if (_query is null || IsKeyed(part.Name))
            {
                parts.Add(part);
            }
        }

        foreach (var part in text.Contains(';') ? parts : (IEnumerable<QueryPart>)parts.OrderBy(static p => p.RawName, StringComparer.Ordinal))
        {
            key.Append(part.Raw.Replace(Separator.ToString(), "%1E", StringComparison.Ordinal)).Append('&');
        }
    }

    /// <summary>
    /// The query's parts between '&amp;' separators (empty ones too), each raw and with its name decoded the way
    /// ASP.NET Core decodes it (<c>+</c> is a space, then percent-decoding), which is how transforms and upstreams read it.
    /// </summary>
    private static IEnumerable<QueryPart> Parts(string query)
    {
        var start = query.StartsWith('?') ? 1 : 0;
        while (start <= query.Length)
        {
            var end = query.IndexOf('&', start);
            if (end < 0)
            {
                end = query.Length;
            }

            var raw = query[start..end];
            var equals = raw.IndexOf('=', StringComparison.Ordinal);
            var rawName = equals < 0 ? raw : raw[..equals];
            yield return new QueryPart(raw, rawName, Uri.UnescapeDataString(rawName.Replace('+', ' ')));
            start = end + 1;
        }
    }

    private readonly record struct QueryPart(string Raw, string RawName, string Name);
}

/// <summary>Compiles a route's <c>Cache</c> property into its <see cref="RouteCache"/>.</summary>
internal sealed class RouteCacheCompiler : IRouteFeatureCompiler
{
    public object? Compile(RouteDefinition route, List<string> errors)
    {
        ArgumentNullException.ThrowIfNull(route);
        if (route.Get(CacheProperties.Cache) is not { } definition)
        {
            return null;
        }

        var start = errors.Count;
        CacheFormat.Check("Cache", definition, errors);
        foreach (var (property, value) in route.Properties)
        {
            // Read by name, so that this folder depends on the model only.
            if (property.Name == CacheFormat.TransformsProperty && value is not null)
            {
                CacheFormat.CheckTransformInputs(RegistryJson.ToJson(value), definition, errors);
            }
        }

        return errors.Count > start ? null : new RouteCache(route, definition);
    }
}
