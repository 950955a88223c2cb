using FuncGateway.Forwarding;
using FuncGateway.Model;
using FuncGateway.Authentication;
using FuncGateway.Authentication.ApiKeys;
using FuncGateway.Configuration;
using FuncGateway.Core.Tests.Configuration;
using FuncGateway.LoadBalancing;
using Microsoft.AspNetCore.Http;

namespace FuncGateway.Core.Tests.Forwarding;

/// <summary>What a client may not tell an upstream: the header list, the route opt-ins and the query parameters removed.</summary>
public sealed class HeaderTrustTests
{
    private static GatewaySnapshot Build(params RegistryRow[] routes)
    {
        var policies = new AuthPolicyRegistry([new ApiKeyPolicy(new ApiKeyPolicySettings("keys"), null!, TimeProvider.System)]);
        var builder = new SnapshotBuilder(RegistryFormat.Serializer, new LoadBalancingPolicyRegistry([new RoundRobinPolicy()]), TimeSpan.FromSeconds(100), [new RouteAuthCompiler(policies)], poolCompilers: TestCompilers.Pools(new InstanceStateRegistry()));
        return builder.Build(new RegistryContent([], routes), 1, TimeProvider.System.GetUtcNow());
    }

    [Theory]
    [InlineData("X-HTTP-Method-Override")]
    [InlineData("x_http_method_override")]
    [InlineData("X-HTTP-Method")]
    [InlineData("X-Method-Override")]
    [InlineData("X-Original-URL")]
    [InlineData("x.rewrite.url")]
    [InlineData("X-Host")]
    [InlineData("X-Original-Host")]
    [InlineData("X-Forwarded-Server")]
    [InlineData("X_Forwarded_Host")]
    [InlineData("Forwarded")]
    [InlineData("x-functions-key")]
    [InlineData("X_FUNCTIONS_KEY")]
    [InlineData("X-User-Id")]
    [InlineData("X-ARR-SSL")]
    [InlineData("X-WAWS-Unencoded-URL")]
    [InlineData("DISGUISED-HOST")]
    [InlineData("was_default_hostname")]
    [InlineData("X-MS-CLIENT-PRINCIPAL")]
    [InlineData("X-MS-CLIENT-PRINCIPAL-NAME")]
    [InlineData("x_ms_client_principal_id")]
    [InlineData("X-MS-TOKEN-AAD-REFRESH-TOKEN")]
    [InlineData("X-MS-TOKEN-AAD-ACCESS-TOKEN-THAT-IS-LONGER-THAN-THIRTY-TWO")]
    [InlineData("-x-ms-token-aad-id-token")]
    [InlineData("_X_MS_CLIENT_PRINCIPAL_IDP")]
    public void Untrusted_headers_and_their_look_alikes_are_recognised(string name)
    {
        Assert.True(UntrustedRequestHeaders.IsUntrusted(name, allowedOverride: null));
    }

    [Theory]
    [InlineData("X-Request-Id")]
    [InlineData("Accept")]
    [InlineData("X-Hostname")]
    [InlineData("X-Forwarded-Client-Cert")]
    [InlineData("Code")]
    [InlineData("X-MS-Request-Id")]
    [InlineData("X-MS-Client")]
    [InlineData("X-Method-Override-Reason-That-Is-Far-Too-Long-To-Be-Any-Of-Them")]
    public void Ordinary_headers_pass(string name)
    {
        Assert.False(UntrustedRequestHeaders.IsUntrusted(name, allowedOverride: null));
    }

    [Fact]
    public void A_route_lets_exactly_its_one_override_header_through()
    {
        Assert.False(UntrustedRequestHeaders.IsUntrusted("x-http-method-override", "X-HTTP-Method-Override"));
        Assert.True(UntrustedRequestHeaders.IsUntrusted("X_HTTP_Method_Override", "X-HTTP-Method-Override"));
        Assert.True(UntrustedRequestHeaders.IsUntrusted("X-HTTP-Method", "X-HTTP-Method-Override"));
    }

    [Fact]
    public void AllowOverrideHeader_names_one_of_the_five_and_is_stored_in_its_canonical_spelling()
    {
        var snapshot = Build(
            RegistryRows.Route("ok", "/a", "http://x", ("AllowOverrideHeader", "x-original-url")),
            RegistryRows.Route("other", "/b", "http://x", ("AllowOverrideHeader", "X-Forwarded-Host")));

        Assert.Equal("X-Original-URL", Assert.Single(snapshot.Routes).Definition.Get(ForwardingProperties.AllowOverrideHeader));
        Assert.Equal("X-Original-URL", RegistryFormat.ToRow(snapshot.Routes[0].Definition).Properties["AllowOverrideHeader"]);
        Assert.Equal(
            "AllowOverrideHeader 'X-Forwarded-Host' is not one of X-HTTP-Method-Override, X-HTTP-Method, X-Method-Override, X-Original-URL, X-Rewrite-URL.",
            string.Join(" | ", Assert.Single(snapshot.Rejected).Errors));
    }

    [Fact]
    public void ForwardAccessTokenQuery_needs_an_authenticated_route_that_does_not_read_its_credential_from_access_token()
    {
        var snapshot = Build(
            RegistryRows.Route("fwd", "/a", "http://x", ("Auth", "keys"), ("ForwardAccessTokenQuery", true)),
            RegistryRows.Route("anon", "/b", "http://x", ("ForwardAccessTokenQuery", "true")),
            RegistryRows.Route("consumed", "/c", "http://x", ("Auth", "keys"), ("ApiKeyQueryParameter", "ACCESS_TOKEN"), ("ForwardAccessTokenQuery", true)),
            RegistryRows.Route("typo", "/d", "http://x", ("Auth", "keys"), ("ForwardAccessTokenQuery", "yes")));

        string Reasons(string id) => string.Join(" | ", snapshot.Rejected.Single(r => r.RowKey == id).Errors);
        Assert.Contains("ForwardAccessTokenQuery needs an authenticated route", Reasons("anon"), StringComparison.Ordinal);
        Assert.Contains("ForwardAccessTokenQuery cannot forward access_token when the route reads its credential from it", Reasons("consumed"), StringComparison.Ordinal);
        Assert.Contains("ForwardAccessTokenQuery must be a boolean", Reasons("typo"), StringComparison.Ordinal);
        var route = Assert.Single(snapshot.Routes);
        Assert.True(route.Definition.Get(AuthProperties.ForwardAccessTokenQuery));
        Assert.Equal(true, RegistryFormat.ToRow(route.Definition).Properties["ForwardAccessTokenQuery"]);
    }

    [Fact]
    public void The_functions_key_leaves_every_forwarded_url_and_access_token_every_authenticated_one_unless_forwarded()
    {
        var snapshot = Build(
            RegistryRows.Route("anon", "/a", "http://x"),
            RegistryRows.Route("auth", "/b", "http://x", ("Auth", "keys"), ("ApiKeyQueryParameter", "api_key")),
            RegistryRows.Route("fwd", "/c", "http://x", ("Auth", "keys"), ("ForwardAccessTokenQuery", true)));
        string[] Removed(string id) => snapshot.Routes.Single(r => r.Definition.Id == id).GetFeature<RouteAuth>()!.RemovedQueryParameters;

        Assert.Equal(["code"], Removed("anon"));
        Assert.Equal(["code", "api_key", "access_token"], Removed("auth"));
        Assert.Equal(["code"], Removed("fwd"));
    }

    [Theory]
    [InlineData("?a=1&code=s&b=2", "?a=1&b=2")]
    [InlineData("?code=s", "")]
    [InlineData("?CODE=s&%63ode=t&co+de=u&a", "?co+de=u&a")]
    [InlineData("?&code=s&a=%20", "?&a=%20")]
    [InlineData("?a=1&b=code", "?a=1&b=code")]
    [InlineData("?codec=1&x=code", "?codec=1&x=code")]
    public void Removing_query_parameters_keeps_every_other_byte(string query, string expected)
    {
        var result = UpstreamIdentityTransform.WithoutParameters(new QueryString(query), "code", "access_token");

        Assert.Equal(expected, result.Value ?? "");
    }

    [Fact]
    public void A_query_without_the_named_parameters_is_returned_as_it_is()
    {
        var query = new QueryString("?a=1&b=%20");

        Assert.Equal(query, UpstreamIdentityTransform.WithoutParameters(query, "code"));
    }
}
