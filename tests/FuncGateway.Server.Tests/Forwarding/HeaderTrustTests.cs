using System.Net.Http.Headers;
using System.Text;
using FuncGateway.Authentication.Basic;
using FuncGateway.Server.Tests.Infrastructure;
using FuncGateway.Testing;

namespace FuncGateway.Server.Tests.Forwarding;

/// <summary>
/// What a client may not tell an upstream, through the real server and a real Kestrel upstream: method and URL
/// override headers, host look-alikes, the Functions key (header and <c>code</c>), and <c>access_token</c> in the URL
/// of an authenticated route.
/// </summary>
[Collection("Azurite")]
public sealed class HeaderTrustTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private static readonly PasswordHash AlicePassword = PasswordHash.Create("correct horse", PasswordHash.MinimumIterations);

    private static readonly string[] OverrideHeaders = ["X-HTTP-Method-Override", "X-HTTP-Method", "X-Method-Override", "X-Original-URL", "X-Rewrite-URL"];

    private TestUpstream _echo = null!;
    private GatewayHost _gateway = null!;

    public async Task InitializeAsync()
    {
        _echo = await TestUpstream.StartAsync("echo");
        _gateway = await GatewayHost.StartAsync(azurite.ConnectionString, new Dictionary<string, string?>
        {
            ["FuncGateway:Auth:Policies:legacy:Type"] = "Basic",
            ["FuncGateway:Auth:Policies:legacy:Users:alice"] = AlicePassword.ToString(),
        });
        await _gateway.UpsertUpstreamAsync("echo", _echo.BaseAddress);
        await _gateway.UpsertRouteAsync("plain", "/plain/{**rest}", "echo", ("Methods", "GET,POST"));
        await _gateway.UpsertRouteAsync("legacy-override", "/override/{**rest}", "echo", ("Methods", "POST"), ("AllowOverrideHeader", "x-http-method-override"));
        await _gateway.UpsertRouteAsync("secure", "/secure/{**rest}", "echo", ("Auth", "legacy"));
        await _gateway.UpsertRouteAsync("secure-fwd", "/secure-fwd/{**rest}", "echo", ("Auth", "legacy"), ("ForwardAccessTokenQuery", true));
        await _gateway.ReloadAsync();
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _echo.DisposeAsync();
    }

    private static HttpRequestMessage WithOverrides(HttpMethod method, string path)
    {
        var request = new HttpRequestMessage(method, path) { Content = new StringContent("{}", Encoding.UTF8, "application/json") };
        foreach (var name in OverrideHeaders)
        {
            request.Headers.TryAddWithoutValidation(name, name.Contains("URL", StringComparison.Ordinal) ? "/admin/delete-everything" : "DELETE");
        }

        // Look-alikes some frameworks map to the same variable (HTTP_X_HTTP_METHOD_OVERRIDE).
        request.Headers.TryAddWithoutValidation("X_HTTP_Method_Override", "DELETE");
        request.Headers.TryAddWithoutValidation("x.original.url", "/admin");
        return request;
    }

    [Fact]
    public async Task Method_and_url_override_headers_never_reach_the_upstream_unless_the_route_lets_that_one_through()
    {
        using var plain = await _gateway.Client.SendAsync(WithOverrides(HttpMethod.Post, "/plain/orders"));
        var echo = await Echo.ReadAsync(plain);

        Assert.Equal("POST", echo.Method);
        Assert.Equal("/plain/orders", echo.Path);
        Assert.All(OverrideHeaders.Append("X_HTTP_Method_Override").Append("x.original.url"), name => Assert.Empty(echo.Header(name)));

        using var opted = await _gateway.Client.SendAsync(WithOverrides(HttpMethod.Post, "/override/orders"));
        echo = await Echo.ReadAsync(opted);

        Assert.Equal(["DELETE"], echo.Header("X-HTTP-Method-Override"));
        Assert.All(OverrideHeaders.Skip(1).Append("X_HTTP_Method_Override").Append("x.original.url"), name => Assert.Empty(echo.Header(name)));
    }

    [Fact]
    public Task Host_look_alikes_never_reach_the_upstream() =>
        AssertNoneReachTheUpstreamAsync("evil.example", "X-Host", "X-Original-Host", "X-Forwarded-Server", "X_Forwarded_Host");

    [Fact]
    public Task Scheme_look_alikes_never_reach_the_upstream() =>
        AssertNoneReachTheUpstreamAsync("evil-scheme", "X-Forwarded-Scheme", "X-Forwarded-Ssl", "Front-End-Https", "X_Url_Scheme");

    [Fact]
    public Task Client_address_look_alikes_never_reach_the_upstream() =>
        AssertNoneReachTheUpstreamAsync("203.0.113.66", "X-Real-IP", "True-Client-IP", "X-Client-IP", "Client-IP", "X-Cluster-Client-IP",
            "CF-Connecting-IP", "Fastly-Client-IP", "X-Original-Forwarded-For", "X-Azure-ClientIP", "X-Azure-SocketIP", "x_real_ip");

    [Fact]
    public Task App_service_front_end_headers_never_reach_the_upstream() =>
        // What the App Service front end adds in front of the Functions app (and a client may write in front of the
        // server): an upstream on App Service would read them as its own front end's.
        AssertNoneReachTheUpstreamAsync("front-end-says", "X-ARR-SSL", "X-AppService-Proto", "X-Forwarded-TlsVersion", "X-WAWS-Unencoded-URL",
            "X-ARR-LOG-ID", "DISGUISED-HOST", "WAS-DEFAULT-HOSTNAME", "X-SITE-DEPLOYMENT-ID", "X-Client-Port");

    [Fact]
    public Task App_service_authentication_identities_and_tokens_never_reach_the_upstream() =>
        // Easy Auth's user and token-store headers: a client's are forged, the platform's carry a user's tokens.
        AssertNoneReachTheUpstreamAsync("admin@contoso.example", "X-MS-CLIENT-PRINCIPAL", "X-MS-CLIENT-PRINCIPAL-ID", "X-MS-CLIENT-PRINCIPAL-NAME",
            "X-MS-CLIENT-PRINCIPAL-IDP", "X-MS-TOKEN-AAD-ACCESS-TOKEN", "X-MS-TOKEN-AAD-REFRESH-TOKEN", "X-MS-TOKEN-AAD-ID-TOKEN", "x_ms_client_principal_name");

    /// <summary>Sends every header with <paramref name="value"/> and asserts the value appears in none of the upstream's headers.</summary>
    private async Task AssertNoneReachTheUpstreamAsync(string value, params string[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/plain/links");
        foreach (var header in headers)
        {
            request.Headers.TryAddWithoutValidation(header, value);
        }

        var echo = await Echo.ReadAsync(await _gateway.Client.SendAsync(request));

        Assert.DoesNotContain(value, echo.Json.GetProperty("headers").GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_look_alike_of_the_request_id_or_trace_context_never_reaches_the_upstream()
    {
        // CGI, PHP and Django read X_Request_Id as X-Request-Id: the upstream would log an id the client chose.
        using var request = new HttpRequestMessage(HttpMethod.Get, "/plain/x");
        foreach (var name in (string[])["X_Request_Id", "x.request.id", "Trace_Parent", "trace-state", "Request_Id", "Correlation_Context", "Bag-gage"])
        {
            Assert.True(request.Headers.TryAddWithoutValidation(name, "forged"), name);
        }

        using var response = await _gateway.Client.SendAsync(request);
        var echo = await Echo.ReadAsync(response);

        Assert.NotEqual("forged", echo.Header("X-Request-Id").Single());
        var forged = echo.Json.GetProperty("headers").EnumerateObject().Where(h => h.Value.ToString().Contains("forged", StringComparison.Ordinal)).Select(h => h.Name);
        Assert.Empty(forged);
    }

    [Fact]
    public async Task The_functions_key_never_reaches_the_upstream_in_a_header_or_the_query()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/plain/x?a=1&code=fn-secret-1&Code=fn-secret-2&%63ode=fn-secret-3&b=%20");
        request.Headers.TryAddWithoutValidation("x-functions-key", "fn-secret-4");
        request.Headers.TryAddWithoutValidation("X_Functions_Key", "fn-secret-5");

        var echo = await Echo.ReadAsync(await _gateway.Client.SendAsync(request));

        Assert.Equal("?a=1&b=%20", echo.Query);
        Assert.DoesNotContain("fn-secret", echo.Json.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task On_an_authenticated_route_access_token_leaves_the_forwarded_url_unless_the_route_forwards_it()
    {
        HttpRequestMessage Authenticated(string path)
        {
            var request = new HttpRequestMessage(HttpMethod.Get, path);
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("alice:correct horse")));
            return request;
        }

        var removed = await Echo.ReadAsync(await _gateway.Client.SendAsync(Authenticated("/secure/x?a=1&access_token=tok-1&ACCESS_TOKEN=tok-2&b=2&code=fn")));
        var forwarded = await Echo.ReadAsync(await _gateway.Client.SendAsync(Authenticated("/secure-fwd/x?a=1&access_token=tok-3&code=fn")));
        var anonymous = await Echo.ReadAsync(await _gateway.Client.GetAsync("/plain/x?access_token=tok-4"));

        Assert.Equal("alice", removed.Header("X-User-Id").Single());
        Assert.Equal("?a=1&b=2", removed.Query);
        Assert.DoesNotContain("tok-", removed.Json.GetRawText(), StringComparison.Ordinal);
        Assert.Equal("?a=1&access_token=tok-3", forwarded.Query);
        Assert.Equal("?access_token=tok-4", anonymous.Query);
    }
}
