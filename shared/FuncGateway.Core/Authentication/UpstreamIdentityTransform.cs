using FuncGateway.Model;
using System.Runtime.CompilerServices;
using FuncGateway.Backend;
using Microsoft.AspNetCore.Http;

namespace FuncGateway.Authentication;

/// <summary>
/// The user context on every route, contributed by <see cref="UpstreamIdentityTransformProvider"/> as the last
/// request transform (after <see cref="UntrustedRequestHeaders"/> removed every client header in the identity
/// namespace): removes the credentials the gateway consumed (the <c>Authorization</c> header unless the policy
/// forwards the bearer token, the route's API key headers) and the query parameters no upstream should see
/// (<see cref="RouteAuth.RemovedQueryParameters"/>: the Functions key on every route, credential parameters and
/// <c>access_token</c> on authenticated ones), adds the identity headers, every value encoded by
/// <see cref="GatewayHeaderValue"/>, and signs them with the final path and query. The encoded headers of a caller
/// are kept with it: the policies hand out the same caller for a cached token, key or password, so its headers are
/// encoded once, not on every request (the lists are only ever read afterwards).
/// </summary>
internal sealed class UpstreamIdentityTransform(ContextSigner signer) : GatewayRequestTransform
{
    private static readonly List<KeyValuePair<string, string>> AnonymousHeaders = [new(GatewayHeaders.AuthPolicy, AuthPolicies.Anonymous)];

    private readonly ConditionalWeakTable<GatewayIdentity, List<KeyValuePair<string, string>>> _encoded = [];

    public override ValueTask ApplyAsync(GatewayRequestTransformContext context)
    {
        var authentication = context.HttpContext.Features.Get<AuthenticationFeature>();
        context.Query = WithoutParameters(context.Query, (authentication?.Route ?? RouteAuth.Anonymous).RemovedQueryParameters);
        if (authentication is null || context.Feature.Identity is not { } caller)
        {
            Write(context, AnonymousHeaders);
            return ValueTask.CompletedTask;
        }

        RemoveCredentials(context, authentication, caller);
        if (!_encoded.TryGetValue(caller, out var headers))
        {
            headers = Encode(caller);
            _encoded.AddOrUpdate(caller, headers);
        }

        Write(context, headers);
        return ValueTask.CompletedTask;
    }

    private static List<KeyValuePair<string, string>> Encode(GatewayIdentity caller)
    {
        var headers = new List<KeyValuePair<string, string>>(8);
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

        return headers;
    }

    private void Write(GatewayRequestTransformContext context, List<KeyValuePair<string, string>> headers)
    {
        var request = context.ProxyRequest;
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        if (signer.Enabled)
        {
            // The signature covers the final address: built here, so no transform may change path or query after this one.
            context.BuildRequestUri();
            signer.Sign(request, headers);
        }
    }

    private static void RemoveCredentials(GatewayRequestTransformContext context, AuthenticationFeature authentication, GatewayIdentity caller)
    {
        // A token from the query is never re-sent as a header: its parameter is always among the removed ones.
        var forwardToken = caller.ForwardToken && authentication.Source is CredentialSource.AuthorizationHeader or CredentialSource.Query;
        if (!forwardToken || authentication.Source == CredentialSource.Query)
        {
            RemoveHeader(context, "Authorization");
        }

        var route = authentication.Route;
        if (route.CredentialHeaders.Length > 0)
        {
            foreach (var header in route.CredentialHeaders)
            {
                RemoveHeader(context, header);
            }

            UntrustedRequestHeaders.RemoveLookAlikes(context.ProxyRequest.Headers, route.CredentialHeaderLookAlikes);
        }
    }

    /// <summary>The query with the named parameters removed (<see cref="QueryStringEditor.Remove"/>); every other byte of it unchanged.</summary>
    internal static QueryString WithoutParameters(QueryString query, params ReadOnlySpan<string?> names) => QueryStringEditor.Remove(query, names);

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

/// <summary>Adds <see cref="UpstreamIdentityTransform"/> to every route, last (<see cref="RouteTransformOrder.Identity"/>).</summary>
internal sealed class UpstreamIdentityTransformProvider(ContextSigner signer) : IRouteTransformProvider
{
    private readonly UpstreamIdentityTransform _transform = new(signer);

    public int Order => RouteTransformOrder.Identity;

    public void Apply(RouteTransformBuilderContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.RequestTransforms.Add(_transform);
    }
}
