using System.Text;
using FuncGateway.Authentication;
using FuncGateway.Backend;
using FuncGateway.Pipeline;
using Microsoft.AspNetCore.Http;

namespace FuncGateway.Transforms;

/// <summary>What the transformer adds to the upstream request: the encoded identity headers and the signer.</summary>
internal sealed class UpstreamIdentityFeature(List<KeyValuePair<string, string>> headers, ContextSigner signer)
{
    public List<KeyValuePair<string, string>> Headers { get; } = headers;

    public ContextSigner Signer { get; } = signer;
}

/// <summary>
/// Prepares the user context for the upstream (runs after rate limiting, which may still read the credentials):
/// removes the credentials the gateway consumed (the <c>Authorization</c> header unless the policy forwards the
/// bearer token, the route's API key headers, credential query parameters) and computes the identity headers,
/// every value encoded by <see cref="GatewayHeaderValue"/>. <see cref="IdentityHeaderTransform"/> writes them.
/// </summary>
internal sealed class UpstreamIdentityStep(ContextSigner signer) : IGatewayStep
{
    public int Order => GatewayStepOrder.RequestTransforms;

    public ValueTask<bool> InvokeAsync(HttpContext context, GatewayRequestFeature feature)
    {
        var authentication = context.Features.Get<AuthenticationFeature>();
        var headers = new List<KeyValuePair<string, string>>(8);
        if (authentication?.Caller is not { } caller)
        {
            headers.Add(new(GatewayHeaders.AuthPolicy, AuthPolicies.Anonymous));
            context.Features.Set(new UpstreamIdentityFeature(headers, signer));
            return ValueTask.FromResult(true);
        }

        RemoveCredentials(context.Request, authentication, caller);
        headers.Add(new(GatewayHeaders.AuthPolicy, GatewayHeaderValue.Encode(caller.Policy)));
        Add(headers, GatewayHeaders.UserId, caller.UserId);
        Add(headers, GatewayHeaders.UserEmail, caller.Email);
        AddList(headers, GatewayHeaders.UserRoles, caller.Roles);
        AddList(headers, GatewayHeaders.UserScopes, caller.Scopes);
        Add(headers, GatewayHeaders.ConsumerId, caller.ConsumerId);
        Add(headers, GatewayHeaders.ConsumerTier, caller.Tier);
        Add(headers, GatewayHeaders.ConsumerKeyId, caller.KeyId);
        foreach (var (name, values) in caller.ExtraHeaders)
        {
            AddList(headers, name, values);
        }

        context.Features.Set(new UpstreamIdentityFeature(headers, signer));
        return ValueTask.FromResult(true);
    }

    private static void RemoveCredentials(HttpRequest request, AuthenticationFeature authentication, AuthenticatedCaller caller)
    {
        var route = authentication.Route;
        var forwardToken = caller.ForwardToken && authentication.Source is CredentialSource.AuthorizationHeader or CredentialSource.Query;
        string? tokenFromQuery = null;
        if (route.TokenQueryParameter is { } tokenParameter && request.Query.TryGetValue(tokenParameter, out var token)
            && forwardToken && authentication.Source == CredentialSource.Query)
        {
            tokenFromQuery = token[0];
        }

        if (!forwardToken || authentication.Source == CredentialSource.Query)
        {
            request.Headers.Remove("Authorization");
        }

        if (tokenFromQuery is not null)
        {
            request.Headers.Authorization = "Bearer " + tokenFromQuery;
        }

        foreach (var header in route.CredentialHeaders)
        {
            request.Headers.Remove(header);
        }

        if (route.TokenQueryParameter is not null || route.ApiKeyQueryParameter is not null)
        {
            request.QueryString = WithoutParameters(request.QueryString, route.TokenQueryParameter, route.ApiKeyQueryParameter);
        }
    }

    /// <summary>The query with the named parameters removed; every other byte of it unchanged.</summary>
    internal static QueryString WithoutParameters(QueryString query, string? first, string? second)
    {
        if (!query.HasValue)
        {
            return query;
        }

        var text = query.Value!.AsSpan(1);
        var builder = new StringBuilder(text.Length + 1);
        var removed = false;
        foreach (var range in text.Split('&'))
        {
            var pair = text[range];
            var equals = pair.IndexOf('=');
            var rawName = equals < 0 ? pair : pair[..equals];
            var name = Uri.UnescapeDataString(rawName.ToString().Replace('+', ' '));
            if (string.Equals(name, first, StringComparison.OrdinalIgnoreCase) || string.Equals(name, second, StringComparison.OrdinalIgnoreCase))
            {
                removed = true;
                continue;
            }

            builder.Append(builder.Length == 0 ? '?' : '&').Append(pair);
        }

        return !removed ? query : builder.Length == 0 ? QueryString.Empty : new QueryString(builder.ToString());
    }

    private static void Add(List<KeyValuePair<string, string>> headers, string name, string? value)
    {
        if (!string.IsNullOrEmpty(value))
        {
            headers.Add(new(name, GatewayHeaderValue.Encode(value)));
        }
    }

    private static void AddList(List<KeyValuePair<string, string>> headers, string name, IReadOnlyList<string> values)
    {
        if (values.Count > 0)
        {
            headers.Add(new(name, GatewayHeaderValue.EncodeList(values)));
        }
    }
}
