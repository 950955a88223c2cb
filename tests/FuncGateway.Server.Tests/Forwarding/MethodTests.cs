using System.Net;
using FuncGateway.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using FuncGateway.Testing;

namespace FuncGateway.Server.Tests.Forwarding;

/// <summary>
/// TRACE, OPTIONS, <c>Max-Forwards</c> and <c>OPTIONS *</c> through the real server: what the gateway answers itself,
/// what it forwards, and that a client's credentials are never echoed back (cross-site tracing).
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class MethodTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private const string App = "https://app.example.com";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    private static readonly string[] DefaultAllow = ["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"];

    private TestUpstream _echo = null!;
    private GatewayHost _gateway = null!;

    private Uri Gateway => _gateway.Client.BaseAddress!;

    public async Task InitializeAsync()
    {
        _echo = await TestUpstream.StartAsync("echo");
        _gateway = await GatewayHost.StartAsync(azurite.ConnectionString, new Dictionary<string, string?>
        {
            ["FuncGateway:Cors:Policies:web:AllowedOrigins"] = App,
            ["FuncGateway:Cors:Policies:web:AllowedMethods"] = "GET,PUT",
        });
        var upstream = _echo.BaseAddress.ToString();
        await _gateway.UpsertRouteAsync("api", "/api/{**rest}", upstream);
        await _gateway.UpsertRouteAsync("diag", "/diag/{**rest}", upstream, ("Methods", "GET,TRACE"));
        await _gateway.UpsertRouteAsync("opts", "/opts/{id}", upstream, ("Methods", "PUT,GET,OPTIONS"));
        await _gateway.UpsertRouteAsync("orders", "/orders/{id}", upstream, ("Methods", "GET,PUT"), ("Cors", "web"));
        await _gateway.ReloadAsync();
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _echo.DisposeAsync();
    }

    [Fact]
    public async Task Trace_on_a_route_without_a_Methods_list_is_refused_with_405_and_never_reaches_the_upstream()
    {
        // Forwarded, an upstream that answers TRACE echoes the client's cookies and Authorization back to the page
        // that sent it (cross-site tracing).
        using var request = new HttpRequestMessage(HttpMethod.Trace, "/api/x");
        request.Headers.Add("Cookie", "session=cookie-secret");
        request.Headers.Add("Authorization", "Bearer token-secret");
        using var response = await _gateway.Client.SendAsync(request);

        var problem = await Problem.AssertAsync(response, HttpStatusCode.MethodNotAllowed, "method_not_allowed");
        Assert.Equal(DefaultAllow, response.Content.Headers.Allow.Order(StringComparer.Ordinal));
        Assert.DoesNotContain("secret", problem.ToString(), StringComparison.Ordinal);
        Assert.Equal(0, _echo.RequestCount);

        // A route's Methods list without TRACE refuses it as before; one that lists TRACE takes it (below).
        using var listed = await _gateway.Client.SendAsync(new HttpRequestMessage(HttpMethod.Trace, "/orders/7"));
        await Problem.AssertAsync(listed, HttpStatusCode.MethodNotAllowed, "method_not_allowed");
        Assert.Equal(["GET", "HEAD", "PUT"], listed.Content.Headers.Allow.Order(StringComparer.Ordinal));
        Assert.Equal(0, _echo.RequestCount);
    }

    [Fact]
    public async Task Trace_on_a_route_that_lists_it_is_forwarded_with_Max_Forwards_decremented()
    {
        using var request = new HttpRequestMessage(HttpMethod.Trace, "/diag/x");
        request.Headers.Add("Max-Forwards", "5");
        using var response = await _gateway.Client.SendAsync(request);

        var echo = await Echo.ReadAsync(response);
        Assert.Equal("TRACE", echo.Method);
        Assert.Equal(["4"], echo.Header("Max-Forwards"));

        using var without = await _gateway.Client.SendAsync(new HttpRequestMessage(HttpMethod.Trace, "/diag/y"));
        Assert.Empty((await Echo.ReadAsync(without)).Header("Max-Forwards"));
    }

    [Fact]
    public async Task Trace_with_Max_Forwards_0_is_echoed_by_the_gateway_without_credentials()
    {
        using var cts = new CancellationTokenSource(Deadline);
        var response = await RawHttpClient.ExchangeAsync(Gateway,
            "TRACE /diag/x?q=%7e1 HTTP/1.1\r\nHost: gw\r\nMax-Forwards: 0\r\nX-Probe: visible\r\nAuthorization: Bearer token-secret\r\n" +
            "Proxy-Authorization: Basic proxy-secret\r\nCookie: session=cookie-secret\r\nX-API-Key: key-secret\r\n\r\n", cts.Token);

        Assert.Equal(200, response.Status);
        Assert.Equal("message/http", response.Header("Content-Type"));
        Assert.StartsWith("TRACE /diag/x?q=%7e1 HTTP/1.1\r\n", response.Text, StringComparison.Ordinal);
        Assert.Contains("\r\nX-Probe: visible\r\n", response.Text, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("\r\nMax-Forwards: 0\r\n", response.Text, StringComparison.OrdinalIgnoreCase);
        Assert.EndsWith("\r\n\r\n", response.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", response.Text, StringComparison.Ordinal);
        Assert.Equal(0, _echo.RequestCount);
    }

    [Fact]
    public async Task Options_with_Max_Forwards_0_is_answered_by_the_gateway_with_the_routes_methods()
    {
        using (var request = new HttpRequestMessage(HttpMethod.Options, "/api/x"))
        {
            request.Headers.Add("Max-Forwards", "0");
            using var response = await _gateway.Client.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(DefaultAllow, response.Content.Headers.Allow.Order(StringComparer.Ordinal));
            Assert.Equal(0, response.Content.Headers.ContentLength);
        }

        using (var request = new HttpRequestMessage(HttpMethod.Options, "/opts/7"))
        {
            request.Headers.Add("Max-Forwards", "0");
            using var response = await _gateway.Client.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(["GET", "HEAD", "OPTIONS", "PUT"], response.Content.Headers.Allow);
        }

        // A route that does not take OPTIONS answers 405 as it does without Max-Forwards: the gateway is the final
        // recipient either way.
        using (var request = new HttpRequestMessage(HttpMethod.Options, "/orders/7"))
        {
            request.Headers.Add("Max-Forwards", "0");
            using var response = await _gateway.Client.SendAsync(request);
            await Problem.AssertAsync(response, HttpStatusCode.MethodNotAllowed, "method_not_allowed");
        }

        Assert.Equal(0, _echo.RequestCount);
    }

    [Fact]
    public async Task Options_with_Max_Forwards_above_0_is_forwarded_decremented_and_other_methods_keep_it()
    {
        using (var request = new HttpRequestMessage(HttpMethod.Options, "/opts/7"))
        {
            request.Headers.Add("Max-Forwards", "1");
            using var response = await _gateway.Client.SendAsync(request);
            var echo = await Echo.ReadAsync(response);
            Assert.Equal("OPTIONS", echo.Method);
            Assert.Equal(["0"], echo.Header("Max-Forwards"));
        }

        // RFC 9110 §7.6.2 defines Max-Forwards for TRACE and OPTIONS only: a GET carries it to the upstream unchanged.
        using (var request = new HttpRequestMessage(HttpMethod.Get, "/api/x"))
        {
            request.Headers.Add("Max-Forwards", "0");
            using var response = await _gateway.Client.SendAsync(request);
            Assert.Equal(["0"], (await Echo.ReadAsync(response)).Header("Max-Forwards"));
        }
    }

    [Theory]
    [InlineData("OPTIONS /opts/7 HTTP/1.1\r\nHost: gw\r\nMax-Forwards: -1\r\n\r\n")]
    [InlineData("OPTIONS /opts/7 HTTP/1.1\r\nHost: gw\r\nMax-Forwards: one\r\n\r\n")]
    [InlineData("TRACE /diag/x HTTP/1.1\r\nHost: gw\r\nMax-Forwards: 1, 2\r\n\r\n")]
    [InlineData("TRACE /diag/x HTTP/1.1\r\nHost: gw\r\nMax-Forwards: 1\r\nMax-Forwards: 0\r\n\r\n")]
    public async Task A_malformed_Max_Forwards_on_trace_or_options_is_refused_with_400(string request)
    {
        using var cts = new CancellationTokenSource(Deadline);
        var response = await RawHttpClient.ExchangeAsync(Gateway, request, cts.Token);

        response.AssertProblem(400, "invalid_max_forwards");
        Assert.Equal(0, _echo.RequestCount);
    }

    [Theory]
    [InlineData("Content-Length: 5\r\n\r\nhello")]
    [InlineData("Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")]
    public async Task A_trace_request_with_a_body_is_refused_with_400_before_the_upstream(string body)
    {
        // RFC 9110 §9.3.8: a client must not send content in a TRACE request. The route lists TRACE, so without the
        // check the body went to the upstream with the request.
        using var cts = new CancellationTokenSource(Deadline);
        var response = await RawHttpClient.ExchangeAsync(Gateway, "TRACE /diag/x HTTP/1.1\r\nHost: gw\r\n" + body, cts.Token);

        response.AssertProblem(400, "trace_with_body");
        Assert.Equal("close", response.Header("Connection"));
        Assert.Equal(0, _echo.RequestCount);

        // Content-Length: 0 announces no content: forwarded as before.
        using var empty = new HttpRequestMessage(HttpMethod.Trace, "/diag/x") { Content = new ByteArrayContent([]) };
        using var forwarded = await _gateway.Client.SendAsync(empty, cts.Token);
        Assert.Equal("TRACE", (await Echo.ReadAsync(forwarded)).Method);
    }

    [Fact]
    public async Task Head_on_a_route_that_lists_GET_is_forwarded_as_HEAD_where_GET_goes()
    {
        await using var reads = await StartMethodUpstreamAsync("reads");
        await using var heads = await StartMethodUpstreamAsync("heads");
        await _gateway.UpsertRouteAsync("reads", "/reads/{id}", reads.BaseAddress.ToString(), ("Methods", "GET"));

        // The class's /api/{**rest} takes HEAD itself; HEAD /api/items still goes where GET /api/items goes.
        await _gateway.UpsertRouteAsync("api-items", "/api/items", reads.BaseAddress.ToString(), ("Methods", "GET"));

        // A route that lists HEAD itself takes it before one that lists only GET for the same path (which sorts first
        // here): the two do not conflict.
        await _gateway.UpsertRouteAsync("page-a-get", "/page", reads.BaseAddress.ToString(), ("Methods", "GET"));
        await _gateway.UpsertRouteAsync("page-b-head", "/page", heads.BaseAddress.ToString(), ("Methods", "HEAD"));
        await _gateway.ReloadAsync();
        Assert.Empty(await _gateway.RejectedReasonsAsync());

        foreach (var (path, upstream) in new[] { ("/reads/7", "reads"), ("/api/items", "reads"), ("/page", "heads") })
        {
            using var head = await _gateway.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, path));
            Assert.True(head.StatusCode == HttpStatusCode.OK, $"HEAD {path}: {(int)head.StatusCode}");
            Assert.Equal(upstream, Assert.Single(head.Headers.GetValues("X-Upstream")));
            Assert.Equal("HEAD", Assert.Single(head.Headers.GetValues("X-Method")));
            Assert.Equal(5, head.Content.Headers.ContentLength);
            Assert.Empty(await head.Content.ReadAsByteArrayAsync());
        }

        using var get = await _gateway.Client.GetAsync("/page");
        Assert.Equal("reads", Assert.Single(get.Headers.GetValues("X-Upstream")));
        Assert.Equal("hello", await get.Content.ReadAsStringAsync());

        // What the route does not take is refused as before, and its Allow names HEAD with GET.
        using var post = await _gateway.Client.PostAsync("/reads/7", new StringContent("x"));
        await Problem.AssertAsync(post, HttpStatusCode.MethodNotAllowed, "method_not_allowed");
        Assert.Equal(["GET", "HEAD"], post.Content.Headers.Allow.Order(StringComparer.Ordinal));
        Assert.Equal(0, _echo.RequestCount);
    }

    /// <summary>An upstream that answers <c>hello</c> with its name and the method it received in headers.</summary>
    private static Task<TestUpstream> StartMethodUpstreamAsync(string name) => TestUpstream.StartAsync(name, app => app.Run(context =>
    {
        context.Response.Headers["X-Upstream"] = name;
        context.Response.Headers["X-Method"] = context.Request.Method;
        context.Response.ContentLength = 5;
        return HttpMethods.IsHead(context.Request.Method) ? Task.CompletedTask : context.Response.WriteAsync("hello");
    }));

    [Fact]
    public async Task A_cors_preflight_with_Max_Forwards_0_is_still_a_preflight()
    {
        using var request = new HttpRequestMessage(HttpMethod.Options, "/orders/7");
        request.Headers.Add("Origin", App);
        request.Headers.Add("Access-Control-Request-Method", "PUT");
        request.Headers.Add("Max-Forwards", "0");
        using var response = await _gateway.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal(App, Assert.Single(response.Headers.GetValues("Access-Control-Allow-Origin")));
        Assert.Equal("GET,PUT", Assert.Single(response.Headers.GetValues("Access-Control-Allow-Methods")));
        Assert.Equal(0, _echo.RequestCount);
    }

    [Theory]
    [InlineData("OPTIONS * HTTP/1.1\r\nHost: gw\r\n\r\n")]
    [InlineData("OPTIONS * HTTP/1.1\r\nHost: gw\r\nMax-Forwards: 3\r\n\r\n")]
    public async Task Options_asterisk_is_answered_by_the_gateway_and_never_forwarded_as_the_root(string request)
    {
        // A catch-all at the root would take "/", which is what the asterisk used to become.
        await _gateway.UpsertRouteAsync("root", "/{**rest}", _echo.BaseAddress.ToString(), ("Priority", -1));
        await _gateway.ReloadAsync();
        using var cts = new CancellationTokenSource(Deadline);

        var response = await RawHttpClient.ExchangeAsync(Gateway, request, cts.Token);

        Assert.True(response.Status == 200, $"Expected 200, got {response.Status}: {response.Text}");
        Assert.Equal(string.Join(", ", DefaultAllow), response.Header("Allow"));
        Assert.Equal("0", response.Header("Content-Length"));
        Assert.Empty(response.Body);
        Assert.Equal(0, _echo.RequestCount);
    }
}
