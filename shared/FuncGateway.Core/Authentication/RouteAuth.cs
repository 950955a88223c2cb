using FuncGateway.Model;
using System.Collections.Frozen;


namespace FuncGateway.Authentication;

/// <summary>A route's authentication and authorization, compiled when the snapshot is built.</summary>
internal sealed class RouteAuth
{
    /// <summary>The Azure Functions key's query parameter: a platform secret, removed from every forwarded URL.</summary>
    public const string FunctionsKeyQueryParameter = "code";

    /// <summary>The usual name of a bearer token in a URL: removed on authenticated routes unless the route forwards it.</summary>
    public const string AccessTokenQueryParameter = "access_token";

    public static readonly RouteAuth Anonymous = new([], null, null, null);

    public RouteAuth(IAuthPolicy[] policies, RouteAuthorization? authorization, string? tokenQueryParameter, string? apiKeyQueryParameter, bool forwardAccessTokenQuery = false)
    {
        Policies = policies;
        Authorization = authorization is { IsEmpty: false } ? new CompiledAuthorization(authorization) : null;
        TokenQueryParameter = tokenQueryParameter;
        ApiKeyQueryParameter = apiKeyQueryParameter;
        PolicyNames = string.Join(", ", policies.Select(static p => p.Name));
        var headers = new List<string>();
        foreach (var policy in policies)
        {
            if (policy is ApiKeys.ApiKeyPolicy apiKey && !headers.Contains(apiKey.Header, StringComparer.OrdinalIgnoreCase))
            {
                headers.Add(apiKey.Header);
            }
        }

        CredentialHeaders = [.. headers];
        CredentialHeaderLookAlikes = UntrustedRequestHeaders.Normalize(headers);

        string?[] removed = [FunctionsKeyQueryParameter, tokenQueryParameter, apiKeyQueryParameter,
            policies.Length > 0 && !forwardAccessTokenQuery ? AccessTokenQueryParameter : null];
        RemovedQueryParameters = [.. removed.OfType<string>().Distinct(StringComparer.OrdinalIgnoreCase)];
    }

    /// <summary>The policies in the order the route lists them; empty for an anonymous route.</summary>
    public IAuthPolicy[] Policies { get; }

    public bool IsAnonymous => Policies.Length == 0;

    public CompiledAuthorization? Authorization { get; }

    public string? TokenQueryParameter { get; }

    public string? ApiKeyQueryParameter { get; }

    public string PolicyNames { get; }

    /// <summary>API key headers of the route's policies: removed before forwarding.</summary>
    public string[] CredentialHeaders { get; }

    /// <summary>
    /// <see cref="CredentialHeaders"/> compared as <see cref="UntrustedRequestHeaders.IsIn"/> does: <c>X_API_Key</c>
    /// and <c>X-Api_Key</c> are removed with <c>X-API-Key</c>, since a backend that maps <c>_</c> and <c>-</c> to one
    /// name (CGI, PHP, nginx) would read them as the key.
    /// </summary>
    public FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>> CredentialHeaderLookAlikes { get; }

    /// <summary>
    /// Query parameters removed from the forwarded URL (names compare case-insensitively): the Functions key
    /// (<c>code</c>) on every route; on an authenticated route also the credential parameters it reads and
    /// <c>access_token</c>, unless the route forwards it.
    /// </summary>
    public string[] RemovedQueryParameters { get; }
}

/// <summary>Authorization requirements as sets, checked without allocation per request.</summary>
internal sealed class CompiledAuthorization(RouteAuthorization requirements)
{
    private readonly FrozenSet<string> _roles = requirements.Roles.ToFrozenSet(StringComparer.Ordinal);
    private readonly FrozenSet<string> _scopes = requirements.Scopes.ToFrozenSet(StringComparer.Ordinal);
    private readonly KeyValuePair<string, FrozenSet<string>>[] _claims =
        [.. requirements.Claims.Select(static c => new KeyValuePair<string, FrozenSet<string>>(c.Key, c.Value.ToFrozenSet(StringComparer.Ordinal)))];

    public IReadOnlyList<string> RequiredScopes { get; } = requirements.Scopes;

    /// <summary>Null when the caller qualifies; otherwise what is missing (for the log, not the client).</summary>
    public string? Check(GatewayIdentity caller)
    {
        if (_roles.Count > 0 && !ContainsAny(_roles, caller.Roles))
        {
            return "missing role";
        }

        if (_scopes.Count > 0 && !ContainsAny(_scopes, caller.Scopes))
        {
            return "missing scope";
        }

        foreach (var (type, values) in _claims)
        {
            var found = false;
            foreach (var claim in caller.Principal.FindAll(type))
            {
                if (values.Contains(claim.Value))
                {
                    found = true;
                    break;
                }
            }

            if (!found)
            {
                return $"missing claim '{type}'";
            }
        }

        return null;
    }

    // A loop, not Any(set.Contains): no delegate or enumerator per request.
    private static bool ContainsAny(FrozenSet<string> required, IReadOnlyList<string> held)
    {
        for (var i = 0; i < held.Count; i++)
        {
            if (required.Contains(held[i]))
            {
                return true;
            }
        }

        return false;
    }
}

/// <summary>Compiles a route's <c>Auth</c> into a <see cref="RouteAuth"/>: every name must be a configured policy.</summary>
internal sealed class RouteAuthCompiler(AuthPolicyRegistry policies) : IRouteFeatureCompiler
{
    internal static bool IsAnonymous(IReadOnlyList<string> auth) =>
        auth is [var only] && string.Equals(only, AuthPolicies.Anonymous, StringComparison.OrdinalIgnoreCase);

    /// <summary>What an anonymous route may not set, whatever the policies: it has no caller to authorize or credential to read.</summary>
    internal static void CheckAnonymous(RouteDefinition route, List<string> errors)
    {
        if (route.Get(AuthProperties.Authorization) is { IsEmpty: false })
        {
            errors.Add("Authorization needs an authenticated route: name a policy in Auth instead of 'anonymous'.");
        }

        if (route.Get(AuthProperties.TokenQueryParameter) is not null || route.Get(AuthProperties.ApiKeyQueryParameter) is not null)
        {
            errors.Add("TokenQueryParameter and ApiKeyQueryParameter need an authenticated route.");
        }

        if (route.Get(AuthProperties.ForwardAccessTokenQuery))
        {
            errors.Add("ForwardAccessTokenQuery needs an authenticated route (an anonymous route never removes access_token).");
        }
    }

    public object? Compile(RouteDefinition route, List<string> errors)
    {
        var auth = route.Get(AuthProperties.Auth);
        var authorization = route.Get(AuthProperties.Authorization);
        var tokenQuery = route.Get(AuthProperties.TokenQueryParameter);
        var apiKeyQuery = route.Get(AuthProperties.ApiKeyQueryParameter);
        var forwardAccessTokenQuery = route.Get(AuthProperties.ForwardAccessTokenQuery);
        if (auth.Count == 0)
        {
            // RegistryFormat already said "Auth is required"; definitions built in code get the same verdict.
            if (!errors.Contains(RouteAuthFormat.AuthRequiredMessage))
            {
                errors.Add(RouteAuthFormat.AuthRequiredMessage);
            }

            return null;
        }

        if (IsAnonymous(auth))
        {
            CheckAnonymous(route, errors);
            return RouteAuth.Anonymous;
        }

        var resolved = new List<IAuthPolicy>(auth.Count);
        foreach (var name in auth)
        {
            if (policies.TryGet(name, out var policy))
            {
                resolved.Add(policy);
            }
            else if (!string.Equals(name, AuthPolicies.Anonymous, StringComparison.OrdinalIgnoreCase))
            {
                errors.Add(policies.Names.Count == 0
                    ? $"Auth names unknown policy '{Model.PrintableText.Of(name)}': no policies are configured (FuncGateway:Auth:Policies)."
                    : $"Auth names unknown policy '{Model.PrintableText.Of(name)}'. Configured: {string.Join(", ", policies.Names)}.");
            }
        }

        if (tokenQuery is not null && !resolved.Exists(static p => p.Type == AuthPolicyType.Jwt))
        {
            errors.Add("TokenQueryParameter needs a Jwt policy in Auth.");
        }

        if (apiKeyQuery is not null && !resolved.Exists(static p => p.Type == AuthPolicyType.ApiKey))
        {
            errors.Add("ApiKeyQueryParameter needs an ApiKey policy in Auth.");
        }

        if (tokenQuery is not null && string.Equals(tokenQuery, apiKeyQuery, StringComparison.Ordinal))
        {
            errors.Add("TokenQueryParameter and ApiKeyQueryParameter must differ.");
        }

        if (forwardAccessTokenQuery
            && (string.Equals(tokenQuery, RouteAuth.AccessTokenQueryParameter, StringComparison.OrdinalIgnoreCase)
                || string.Equals(apiKeyQuery, RouteAuth.AccessTokenQueryParameter, StringComparison.OrdinalIgnoreCase)))
        {
            errors.Add("ForwardAccessTokenQuery cannot forward access_token when the route reads its credential from it (TokenQueryParameter/ApiKeyQueryParameter): "
                + "the gateway consumes that credential; a Jwt policy's ForwardToken sends the token on in Authorization.");
        }

        return errors.Count > 0 ? null : new RouteAuth([.. resolved], authorization, tokenQuery, apiKeyQuery, forwardAccessTokenQuery);
    }
}

/// <summary>The configured policies by name (case-insensitive, as configuration keys are).</summary>
internal sealed class AuthPolicyRegistry
{
    private readonly FrozenDictionary<string, IAuthPolicy> _policies;

    public AuthPolicyRegistry(IEnumerable<IAuthPolicy> policies)
    {
        _policies = policies.ToFrozenDictionary(static p => p.Name, StringComparer.OrdinalIgnoreCase);
        Names = [.. _policies.Keys.Order(StringComparer.OrdinalIgnoreCase)];
    }

    public IReadOnlyList<string> Names { get; }

    public bool TryGet(string name, out IAuthPolicy policy) => _policies.TryGetValue(name, out policy!);
}

/// <summary>
/// The checks of <see cref="RouteAuthCompiler"/> that need no configured policy, for tools that validate a registry
/// offline (<c>fgw validate</c>): an anonymous route's properties that only an authenticated route may set.
/// </summary>
internal sealed class OfflineRouteAuthCompiler : IRouteFeatureCompiler
{
    public static readonly OfflineRouteAuthCompiler Instance = new();

    public object? Compile(RouteDefinition route, List<string> errors)
    {
        if (RouteAuthCompiler.IsAnonymous(route.Get(AuthProperties.Auth)))
        {
            RouteAuthCompiler.CheckAnonymous(route, errors);
        }

        return null;
    }
}
