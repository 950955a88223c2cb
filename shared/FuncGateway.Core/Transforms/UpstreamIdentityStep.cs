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
/// bearer token, the route's API key headers) and the query parameters no upstream should see
/// (<see cref="RouteAuth.RemovedQueryParameters"/>: the Functions key on every route, credential parameters and
/// <c>access_token</c> on authenticated ones), and computes the identity headers, every value encoded by
/// <see cref="GatewayHeaderValue"/>. <see cref="IdentityHeaderTransform"/> writes them.
/// </summary>
internal sealed class UpstreamIdentityStep(ContextSigner signer) : IGatewayStep
{
    public int Order => GatewayStepOrder.RequestTransforms;

    public ValueTask<bool> InvokeAsync(HttpContext context, GatewayRequestFeature feature)
    {
        var authentication = context.Features.Get<AuthenticationFeature>();
        var headers = new List<KeyValuePair<string, string>>(8);
        var request = context.Request;
        request.QueryString = WithoutParameters(request.QueryString, (authentication?.Route ?? RouteAuth.Anonymous).RemovedQueryParameters);
        if (authentication is null || feature.Identity is not { } caller)
        {
            headers.Add(new(GatewayHeaders.AuthPolicy, AuthPolicies.Anonymous));
            context.Features.Set(new UpstreamIdentityFeature(headers, signer));
            return ValueTask.FromResult(true);
        }

        RemoveCredentials(request, authentication, caller);
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

    private static void RemoveCredentials(HttpRequest request, AuthenticationFeature authentication, GatewayIdentity caller)
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
    }

    /// <summary>
    /// The query with the named parameters removed (names compare case-insensitively, after percent-decoding); every
    /// other byte of it unchanged. Allocates only when something is removed.
    /// </summary>
    internal static QueryString WithoutParameters(QueryString query, params ReadOnlySpan<string?> names)
    {
        if (!query.HasValue || names.IsEmpty)
        {
            return query;
        }

        var text = query.Value!.AsSpan(1);
        StringBuilder? builder = null;
        var keptBefore = false;
        foreach (var range in text.Split('&'))
        {
            var pair = text[range];
            if (!IsNamed(pair, names))
            {
                if (builder is null)
                {
                    keptBefore = true;
                }
                else
                {
                    builder.Append(builder.Length == 0 ? '?' : '&').Append(pair);
                }

                continue;
            }

            if (builder is null)
            {
                // The first removal: everything before this pair was kept as it is.
                builder = new StringBuilder(text.Length + 1);
                if (keptBefore)
                {
                    builder.Append('?').Append(text[..(range.Start.Value - 1)]);
                }
            }
        }

        return builder is null ? query : builder.Length == 0 ? QueryString.Empty : new QueryString(builder.ToString());
    }

    private static bool IsNamed(ReadOnlySpan<char> pair, ReadOnlySpan<string?> names)
    {
        var equals = pair.IndexOf('=');
        ReadOnlySpan<char> name = equals < 0 ? pair : pair[..equals];
        if (name.ContainsAny('%', '+'))
        {
            name = Uri.UnescapeDataString(name.ToString().Replace('+', ' '));
        }

        foreach (var candidate in names)
        {
            if (candidate is not null && name.Equals(candidate, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
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
