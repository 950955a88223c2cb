using System.Net;
using System.Net.Http.Headers;
using System.Text;
using FuncGateway.Authentication.Basic;
using FuncGateway.Server.Tests.Infrastructure;
using FuncGateway.Server.Tests.Resilience;
using FuncGateway.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace FuncGateway.Server.Tests.Transforms;

/// <summary>
/// A route's <c>Transforms</c> through the real server, real Kestrel upstreams and Azurite: what the upstream receives
/// (headers from templates, query, method) and what the client receives (headers, Content-Type, status); that client
/// input cannot reach protected headers; that a bad list rejects only its row; that gateway-made errors are untouched.
/// </summary>
[Collection("Azurite")]
public sealed class TransformsTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private const string RequestTransforms = """
        [{"RequestHeader":"X-Api-Version","Set":"2"},
         {"RequestHeader":"X-Request-Id","SetIfMissing":"{RequestId}"},
         {"RequestHeader":"X-Caller","Set":"{UserId} via {RouteId}"},
         {"RequestHeader":"X-Item","Set":"{Route:id}"},
         {"RequestHeader":"X-Search","Set":"{Query:q}"},
         {"RequestHeader":"X-Name","Set":"{Header:X-Display-Name}"},
         {"RequestHeaderRemove":"X-Debug"},
         {"RequestHeaderRename":"X-Old-Tenant","To":"X-Tenant"},
         {"QueryParameter":"api-version","Set":"2024-01-01"},
         {"QueryParameterRemove":"debug"},
         {"QueryParameterRename":"q","To":"search"},
         {"HttpMethodChange":"PUT","Set":"POST"},
         {"RequestHeader":"X-HTTP-Method-Override","Set":"{Method}"}]
        """;

    private const string ResponseTransforms = """
        [{"ResponseHeaderRemove":"Server"},
         {"ResponseHeaderRemove":"X-Powered-By"},
         {"ResponseHeader":"X-Frame-Options","Set":"DENY"},
         {"ResponseContentType":"application/json; charset=utf-8","IfMediaType":"text/plain"},
         {"ResponseStatus":"404","Set":"410"},
         {"ResponseStatus":"502","Set":"503"}]
        """;

    private TestUpstream _echo = null!;
    private TestUpstream _legacy = null!;
    private GatewayHost _gateway = null!;

    public async Task InitializeAsync()
    {
        _echo = await TestUpstream.StartAsync("echo-transforms");
        _legacy = await TestUpstream.StartAsync("legacy", app => app.MapGet("/status/{code:int}", (int code, HttpContext context) =>
        {
            context.Response.StatusCode = code;
            context.Response.Headers["Server"] = "Apache/2.2.3";
            context.Response.Headers["X-Powered-By"] = "PHP/5.1";
            context.Response.ContentType = "text/plain";
            return context.Response.WriteAsync("upstream says " + code);
        }));
        _gateway = await GatewayHost.StartAsync(azurite.ConnectionString, new Dictionary<string, string?>
        {
            ["FuncGateway:Auth:Policies:legacy:Type"] = "Basic",
            ["FuncGateway:Auth:Policies:legacy:Users:alice"] = PasswordHash.Create("pw", PasswordHash.MinimumIterations).ToString(),
            ["FuncGateway:Auth:Signing:Keys:k1"] = Convert.ToBase64String(new byte[32]),
        });
        await _gateway.UpsertUpstreamAsync("echo", _echo.BaseAddress);
        await _gateway.UpsertUpstreamAsync("legacy", _legacy.BaseAddress);
        await _gateway.UpsertRouteAsync("orders", "/orders/{id}/{**rest}", "echo", ("Auth", "legacy"), ("Transforms", RequestTransforms));
        await _gateway.UpsertRouteAsync("legacy", "/legacy/{**rest}", "legacy", ("StripPrefix", "/legacy"), ("Transforms", ResponseTransforms));
        await _gateway.UpsertRouteAsync("dead", "/dead/{**rest}", $"http://127.0.0.1:{LoopbackPorts.GetRefusing()}", ("Transforms", ResponseTransforms));

        // Client input into an identity header, and a client header renamed into a forwarding header: both refused.
        await _gateway.UpsertRouteAsync("spoof-identity", "/spoof/{**rest}", "echo", ("Transforms", """[{"RequestHeader":"X-User-Id","Set":"{Header:X-Name}"}]"""));
        await _gateway.UpsertRouteAsync("spoof-forwarded", "/spoof2/{**rest}", "echo", ("Transforms", """[{"RequestHeaderRename":"X-Real-Ip","To":"X-Forwarded-For"}]"""));
        await _gateway.UpsertRouteAsync("spoof-request-id", "/spoof3/{**rest}", "echo", ("Transforms", """[{"RequestHeader":"X-Request-Id","Set":"{Header:X-Client-Id}"}]"""));
        await _gateway.UpsertRouteAsync("spoof-trace", "/spoof4/{**rest}", "echo", ("Transforms", """[{"RequestHeaderRename":"X-Parent","To":"traceparent"}]"""));
        await _gateway.UpsertRouteAsync("bad-status", "/bad-status", "echo", ("Transforms", """[{"ResponseStatus":"200","Set":"101"}]"""));

        // A method whose answer is not an answer to the client's: HEAD (a GET's head without its body), TRACE (an echo).
        await _gateway.UpsertRouteAsync("to-head", "/to-head", "echo", ("Transforms", """[{"HttpMethodChange":"GET","Set":"HEAD"}]"""));
        await _gateway.UpsertRouteAsync("to-trace", "/to-trace", "echo", ("Transforms", """[{"HttpMethodChange":"GET","Set":"trace"}]"""));
        await _gateway.ReloadAsync();
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _legacy.DisposeAsync();
        await _echo.DisposeAsync();
    }

    private static HttpRequestMessage AsAlice(HttpMethod method, string path)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("alice:pw")));
        return request;
    }

    [Fact]
    public async Task A_callers_value_cannot_add_attributes_to_a_cookie_the_gateway_sets()
    {
        // A user name (a claim, a consumer id) is the caller's choice, and so could be "; Domain=…".
        const string User = "eve; Domain=evil.example; Max-Age=99999999, x=1";
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString, new Dictionary<string, string?>
        {
            ["FuncGateway:Auth:Policies:legacy:Type"] = "Basic",
            [$"FuncGateway:Auth:Policies:legacy:Users:{User}"] = PasswordHash.Create("pw", PasswordHash.MinimumIterations).ToString(),
        });
        await gateway.UpsertRouteAsync("cookies", "/cookies/{**rest}", _echo.BaseAddress.ToString(), ("Auth", "legacy"), ("Transforms",
            """[{"ResponseHeader":"Set-Cookie","Set":"user={UserId}; Path=/; Secure; HttpOnly"},{"RequestHeader":"Cookie","Set":"tenant={Query:t}; seen=1"}]"""));
        await gateway.ReloadAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/cookies/x?t=a%3B%20admin%3Dtrue");
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(User + ":pw")));

        using var response = await gateway.Client.SendAsync(request);
        var echo = await Echo.ReadAsync(response);

        Assert.Equal(["user=eve%3B%20Domain%3Devil.example%3B%20Max-Age%3D99999999%2C%20x%3D1; Path=/; Secure; HttpOnly"], response.Headers.GetValues("Set-Cookie"));
        Assert.Equal(["tenant=a%3B%20admin%3Dtrue; seen=1"], echo.Header("Cookie"));
    }

    [Fact]
    public async Task A_callers_value_cannot_become_the_url_of_a_location_refresh_link_or_policy_header()
    {
        // A user name is the caller's choice, and so could be a URL: in Location it would be an open redirect.
        const string User = "//evil.example/phish?a=1, <evil>";
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString, new Dictionary<string, string?>
        {
            ["FuncGateway:Auth:Policies:legacy:Type"] = "Basic",
            [$"FuncGateway:Auth:Policies:legacy:Users:{User}"] = PasswordHash.Create("pw", PasswordHash.MinimumIterations).ToString(),
        });
        await gateway.UpsertRouteAsync("urls", "/urls/{**rest}", _echo.BaseAddress.ToString(), ("Auth", "legacy"), ("Transforms", """
            [{"ResponseHeader":"Location","Set":"{UserId}"},
             {"ResponseHeader":"Refresh","Set":"0; url=/home/{UserId}"},
             {"ResponseHeader":"Link","Set":"</users/{UserId}>; rel=profile"},
             {"ResponseHeader":"Content-Security-Policy","Set":"frame-ancestors 'self' {UserId}"},
             {"ResponseHeader":"X-Caller","Set":"{UserId}"}]
            """));
        await gateway.ReloadAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/urls/x");
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(User + ":pw")));

        using var response = await gateway.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        const string Encoded = "%2F%2Fevil.example%2Fphish%3Fa%3D1%2C%20%3Cevil%3E";
        Assert.Equal(Encoded, response.Headers.NonValidated["Location"].ToString());
        Assert.Equal("0; url=/home/" + Encoded, response.Headers.NonValidated["Refresh"].ToString());
        Assert.Equal("</users/" + Encoded + ">; rel=profile", response.Headers.NonValidated["Link"].ToString());
        Assert.Equal("frame-ancestors 'self' " + Encoded, response.Headers.NonValidated["Content-Security-Policy"].ToString());
        // A header that carries no URL keeps the value as it is.
        Assert.Equal(User, response.Headers.NonValidated["X-Caller"].ToString());
    }

    [Fact]
    public async Task A_semicolon_that_some_servers_read_as_a_separator_cannot_hide_a_parameter_the_gateway_sets_or_removes()
    {
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString);
        await gateway.UpsertRouteAsync("tenant", "/tenant/{**rest}", _echo.BaseAddress.ToString(), ("Transforms",
            """[{"QueryParameter":"tenant","Set":"contoso"},{"QueryParameterRemove":"debug"},{"QueryParameterRename":"q","To":"search"}]"""));
        await gateway.ReloadAsync();

        async Task<string> ForwardedQueryAsync(string query) => (await Echo.ReadAsync(await gateway.Client.GetAsync("/tenant/x" + query))).Query;

        // Python before 3.9.2 reads x=1;tenant=evil as x=1 and tenant=evil: the gateway's tenant would be the second one.
        Assert.Equal("?x=1%3Btenant=evil&tenant=contoso", await ForwardedQueryAsync("?x=1;tenant=evil"));
        Assert.Equal("?a=1&x=1%3Bdebug%5B%5D=1%3Bz=2&tenant=contoso", await ForwardedQueryAsync("?a=1&x=1;debug%5B%5D=1;z=2"));
        Assert.Equal("?x=%3Bsearch=evil&search=mine&tenant=contoso", await ForwardedQueryAsync("?x=;search=evil&q=mine"));
        // The Functions key is removed on every route, so it cannot hide either.
        Assert.Equal("?x=1%3Bcode=abc&tenant=contoso", await ForwardedQueryAsync("?x=1;code=abc"));
        // A semicolon that hides nothing the gateway edits passes byte for byte.
        Assert.Equal("?filter=a;b=c&tenant=contoso", await ForwardedQueryAsync("?filter=a;b=c"));
    }

    [Fact]
    public async Task The_upstream_receives_the_transformed_headers_query_and_method_and_the_identity_headers_last()
    {
        using var request = AsAlice(HttpMethod.Put, "/orders/42/lines?q=caf%C3%A9&debug=1&keep=%20x&api-version=1");
        request.Headers.Add("X-Api-Version", "1");
        request.Headers.Add("X-Debug", "true");
        request.Headers.Add("X-Old-Tenant", "contoso");
        request.Headers.Add("X-Display-Name", "Alice A.");
        request.Content = new StringContent("{}", Encoding.UTF8, "application/json");
        using var response = await _gateway.Client.SendAsync(request);
        var echo = await Echo.ReadAsync(response);

        Assert.Equal("POST", echo.Method);
        Assert.Equal("PUT", echo.Header("X-HTTP-Method-Override").Single());
        Assert.Equal("?search=caf%C3%A9&keep=%20x&api-version=2024-01-01", echo.Query);
        Assert.Equal("2", echo.Header("X-Api-Version").Single());
        Assert.False(string.IsNullOrEmpty(echo.Header("X-Request-Id").Single()));
        Assert.Equal("alice via orders", echo.Header("X-Caller").Single());
        Assert.Equal("42", echo.Header("X-Item").Single());
        Assert.Equal("caf%C3%A9", echo.Header("X-Search").Single());
        Assert.Equal("Alice A.", echo.Header("X-Name").Single());
        Assert.Empty(echo.Header("X-Debug"));
        Assert.Empty(echo.Header("X-Old-Tenant"));
        Assert.Equal("contoso", echo.Header("X-Tenant").Single());
        Assert.Equal("{}", echo.Body);

        // The identity transform ran after: the credential is gone, the caller and the signature are the gateway's.
        Assert.Empty(echo.Header("Authorization"));
        Assert.Equal("alice", echo.Header("X-User-Id").Single());
        Assert.Single(echo.Header("X-Gateway-Signature"));
    }

    [Theory]
    [InlineData("eve%0D%0AX-User-Id:%20admin", "eve%0D%0AX-User-Id: admin")]
    [InlineData("eve%0AX-Gateway-Auth-Policy:%20none", "eve%0AX-Gateway-Auth-Policy: none")]
    public async Task Client_input_in_a_template_cannot_inject_a_header_or_reach_a_protected_one(string query, string expected)
    {
        using var request = AsAlice(HttpMethod.Get, "/orders/1/x?q=" + query);
        request.Headers.Add("X-User-Id", "admin");
        request.Headers.Add("X-Display-Name", "Mallory");
        using var response = await _gateway.Client.SendAsync(request);
        var echo = await Echo.ReadAsync(response);

        Assert.Equal(expected, echo.Header("X-Search").Single());
        Assert.Equal("alice", echo.Header("X-User-Id").Single());
        Assert.Equal("legacy", echo.Header("X-Gateway-Auth-Policy").Single());
    }

    [Fact]
    public async Task A_set_header_whose_value_is_missing_removes_the_clients_own()
    {
        // No q parameter: X-Search has no value, so the client's X-Search does not pass for the gateway's.
        using var request = AsAlice(HttpMethod.Get, "/orders/1/x");
        request.Headers.Add("X-Search", "client-chosen");
        using var response = await _gateway.Client.SendAsync(request);
        var echo = await Echo.ReadAsync(response);
        Assert.Empty(echo.Header("X-Search"));
    }

    [Fact]
    public async Task A_client_spelling_of_a_set_removed_or_renamed_header_with_underscores_or_dots_does_not_reach_the_upstream()
    {
        // CGI, PHP and Django read X_Api_Version as X-Api-Version: the client's value would sit beside the gateway's.
        using var request = AsAlice(HttpMethod.Get, "/orders/1/x");
        Assert.True(request.Headers.TryAddWithoutValidation("X_Api_Version", "1"));
        Assert.True(request.Headers.TryAddWithoutValidation("x.item", "999"));
        Assert.True(request.Headers.TryAddWithoutValidation("X_Debug", "true"));
        Assert.True(request.Headers.TryAddWithoutValidation("X_Tenant", "fabrikam"));
        Assert.True(request.Headers.TryAddWithoutValidation("X_Search", "client-chosen"));
        request.Headers.Add("X-Old-Tenant", "contoso");
        request.Headers.Add("X-Kept_Header", "stays");
        using var response = await _gateway.Client.SendAsync(request);
        var echo = await Echo.ReadAsync(response);

        Assert.Equal("2", echo.Header("X-Api-Version").Single());
        Assert.Empty(echo.Header("X_Api_Version"));
        Assert.Equal("1", echo.Header("X-Item").Single());
        Assert.Empty(echo.Header("x.item"));
        Assert.Empty(echo.Header("X_Debug"));
        Assert.Equal("contoso", echo.Header("X-Tenant").Single());
        Assert.Empty(echo.Header("X_Tenant"));
        Assert.Empty(echo.Header("X-Search"));
        Assert.Empty(echo.Header("X_Search"));
        Assert.Equal("stays", echo.Header("X-Kept_Header").Single());
    }

    [Fact]
    public async Task A_bracketed_form_of_a_set_or_removed_query_parameter_does_not_reach_the_upstream()
    {
        // PHP, Rack and Express read api-version[]=1 as api-version: the client's value would sit beside the gateway's.
        using var request = AsAlice(HttpMethod.Get, "/orders/1/x?api-version[]=1&debug[0]=1&keep=k&debug%5B%5D=2&Debug[x]=3&code[]=key&debugger=4");
        using var response = await _gateway.Client.SendAsync(request);
        var echo = await Echo.ReadAsync(response);

        Assert.Equal("?keep=k&debugger=4&api-version=2024-01-01", echo.Query);
    }

    [Fact]
    public async Task The_client_receives_the_mapped_status_and_fixed_headers_with_the_upstreams_body()
    {
        using var gone = await _gateway.Client.GetAsync("/legacy/status/404");
        Assert.Equal(HttpStatusCode.Gone, gone.StatusCode);
        Assert.Equal("Gone", gone.ReasonPhrase);
        Assert.False(gone.Headers.Contains("Server"));
        Assert.False(gone.Headers.Contains("X-Powered-By"));
        Assert.Equal("DENY", gone.Headers.GetValues("X-Frame-Options").Single());
        Assert.Equal("application/json; charset=utf-8", gone.Content.Headers.ContentType!.ToString());
        Assert.Equal("upstream says 404", await gone.Content.ReadAsStringAsync());

        using var ok = await _gateway.Client.GetAsync("/legacy/status/200");
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.False(ok.Headers.Contains("Server"));
        Assert.Equal("upstream says 200", await ok.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_gateway_made_error_is_never_transformed()
    {
        // The route maps 502 to 503, but the 502 here is the gateway's own answer for an unreachable upstream.
        using var response = await _gateway.Client.GetAsync("/dead/x");
        await Problem.AssertAsync(response, HttpStatusCode.BadGateway, "upstream_unreachable");
        Assert.False(response.Headers.Contains("X-Frame-Options"));
    }

    [Fact]
    public async Task The_circuit_breaker_judges_the_instances_own_status_not_the_mapped_one()
    {
        const string breaker = """{"minimumThroughput":4,"failureRatio":0.5,"breakSeconds":30}""";
        await using var failing = await ControllableUpstream.StartAsync("hidden-failures");
        failing.Status = 500;
        await using var picky = await ControllableUpstream.StartAsync("loud-404s");
        picky.Status = 404;
        await _gateway.UpsertPoolAsync("hidden", [(failing.BaseAddress, 1)], ("CircuitBreaker", breaker));
        await _gateway.UpsertPoolAsync("loud", [(picky.BaseAddress, 1)], ("CircuitBreaker", breaker));
        await _gateway.UpsertRouteAsync("hidden", "/hidden", "hidden", ("Retries", """{"maxRetries":0}"""), ("Transforms", """[{"ResponseStatus":"500","Set":"404"}]"""));
        await _gateway.UpsertRouteAsync("loud", "/loud", "loud", ("Retries", """{"maxRetries":0}"""), ("Transforms", """[{"ResponseStatus":"404","Set":"500"}]"""));
        await _gateway.ReloadAsync();

        for (var i = 0; i < 4; i++)
        {
            using var hidden = await _gateway.Client.GetAsync("/hidden");
            Assert.Equal(HttpStatusCode.NotFound, hidden.StatusCode);
            using var loud = await _gateway.Client.GetAsync("/loud");
            Assert.Equal(HttpStatusCode.InternalServerError, loud.StatusCode);
        }

        // Four 500s behind 404s opened the breaker; four 404s shown as 500s did not.
        using var open = await _gateway.Client.GetAsync("/hidden");
        await Problem.AssertAsync(open, HttpStatusCode.ServiceUnavailable, "no_upstream_available");
        Assert.Equal(4, failing.Requests);
        using var stillClosed = await _gateway.Client.GetAsync("/loud");
        Assert.Equal(HttpStatusCode.InternalServerError, stillClosed.StatusCode);
        Assert.Equal(5, picky.Requests);
    }

    [Fact]
    public async Task A_bad_transform_list_rejects_only_its_row_with_the_reason()
    {
        var rejected = await _gateway.RejectedReasonsAsync();
        Assert.Equal(["bad-status", "spoof-forwarded", "spoof-identity", "spoof-request-id", "spoof-trace", "to-head", "to-trace"],
            rejected.Keys.Order(StringComparer.Ordinal));
        Assert.Contains("the upstream cannot be sent HEAD", rejected["to-head"], StringComparison.Ordinal);
        Assert.Contains("the upstream cannot be sent TRACE", rejected["to-trace"], StringComparison.Ordinal);
        Assert.Contains("'X-Request-Id' is a header only the gateway speaks for", rejected["spoof-request-id"], StringComparison.Ordinal);
        Assert.Contains("may not take caller or client input", rejected["spoof-request-id"], StringComparison.Ordinal);
        Assert.Contains("'traceparent' is a header only the gateway speaks for", rejected["spoof-trace"], StringComparison.Ordinal);
        Assert.Contains("Transforms[0] (RequestHeader 'X-User-Id'): 'X-User-Id' is in the gateway's identity namespace", rejected["spoof-identity"], StringComparison.Ordinal);
        Assert.Contains("cannot be renamed into it", rejected["spoof-forwarded"], StringComparison.Ordinal);
        Assert.Contains("1xx cannot be mapped", rejected["bad-status"], StringComparison.Ordinal);

        using var refused = await _gateway.Client.GetAsync("/spoof/x");
        await Problem.AssertAsync(refused, HttpStatusCode.NotFound, "route_not_found");
        using var spoofedId = new HttpRequestMessage(HttpMethod.Get, "/spoof3/x");
        spoofedId.Headers.Add("X-Client-Id", "chosen-by-client");
        using var refusedId = await _gateway.Client.SendAsync(spoofedId);
        await Problem.AssertAsync(refusedId, HttpStatusCode.NotFound, "route_not_found");
        using var served = await _gateway.Client.GetAsync("/legacy/status/200");
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
    }
}
