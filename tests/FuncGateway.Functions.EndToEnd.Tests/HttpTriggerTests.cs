using System.Net;
using System.Net.Http.Json;
using FuncGateway.Authentication.ApiKeys;
using System.Text.Json;
using FuncGateway.Samples.Echo;
using FuncGateway.Testing;

namespace FuncGateway.Functions.EndToEnd.Tests;

/// <summary>
/// Client requests through the test host into the real worker's <c>Gateway</c> function and on to real upstreams:
/// the end-to-end basics that <c>FuncGateway.Server</c> gets in tests/FuncGateway.Server.Tests, here on the Functions
/// app's path (host → gRPC invocation + forwarded HTTP request → ASP.NET Core integration → function → core).
/// </summary>
[Collection(FunctionsAppCollectionDefinition.Name)]
public sealed class HttpTriggerTests(FunctionsAppFixture app)
{
    private const int Chunk = 1024 * 1024;
    private const string GatewayFunctionName = "Gateway";

    [Fact]
    public async Task A_proxied_get_reaches_the_upstream_through_the_gateway_function()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/items/42?b=2&a=%20x");
        request.Headers.Add("X-Custom", "one");

        using var response = await app.Client.SendAsync(request);
        var echo = await ReadEchoAsync(response);

        Assert.Equal("GET", echo.Method);
        Assert.Equal("/api/items/42", echo.Path);
        Assert.Equal("?b=2&a=%20x", echo.Query);
        Assert.Equal(["one"], echo.Headers["x-custom"]);
        await AssertInvokedAsync("/api/items/42");
    }

    [Fact]
    public async Task The_route_template_rewrites_the_path_of_a_matched_route()
    {
        using var response = await app.Client.GetAsync("/shop/orders/7?expand=lines");
        var echo = await ReadEchoAsync(response);

        Assert.Equal("/v2/orders/7", echo.Path);
        Assert.Equal("?expand=lines", echo.Query);
    }

    [Fact]
    public async Task The_root_and_deep_paths_reach_the_catch_all_function_with_the_empty_route_prefix()
    {
        // No /api prefix: the gateway sees the public path, and "/" is routed to the function too.
        using var root = await app.Client.GetAsync("/");
        await AssertProblemAsync(root, HttpStatusCode.NotFound, "route_not_found");
        await AssertInvokedAsync("/");

        using var deep = await app.Client.GetAsync("/a/b/c/d");
        await AssertProblemAsync(deep, HttpStatusCode.NotFound, "route_not_found");
        await AssertInvokedAsync("/a/b/c/d");
    }

    [Fact]
    public async Task Unmatched_path_and_wrong_method_are_gateway_problems()
    {
        using var notFound = await app.Client.GetAsync("/nowhere");
        await AssertProblemAsync(notFound, HttpStatusCode.NotFound, "route_not_found");

        using var wrongMethod = await app.Client.PostAsync("/shop/orders/7", new StringContent("x"));
        await AssertProblemAsync(wrongMethod, HttpStatusCode.MethodNotAllowed, "method_not_allowed");
        Assert.Equal(["DELETE", "GET", "HEAD", "PUT"], wrongMethod.Content.Headers.Allow.Order(StringComparer.Ordinal));
        await AssertInvokedAsync("/shop/orders/7");
    }

    [Theory]
    [InlineData("PATCH")]
    [InlineData("PROPFIND")]
    [InlineData("PURGE")]
    [InlineData("QUERY")]
    public async Task Every_method_reaches_the_gateway_function_as_on_the_server(string method)
    {
        // The trigger lists no methods, so the host routes any method to the function, as Kestrel does for the server.
        using var request = new HttpRequestMessage(new HttpMethod(method), "/api/methods/" + method);

        using var response = await app.Client.SendAsync(request);
        var echo = await ReadEchoAsync(response);

        Assert.Equal(method, echo.Method);
        await AssertInvokedAsync("/api/methods/" + method);
    }

    [Fact]
    public async Task Trace_and_max_forwards_are_the_cores_business_in_the_functions_app_too()
    {
        var before = app.Echo.RequestCount;

        // The trigger lists no methods, so the host hands TRACE to the function; the core refuses it on a route
        // without Methods, as on the server, and the client's cookie never reaches the upstream.
        using var trace = new HttpRequestMessage(HttpMethod.Trace, "/api/trace");
        trace.Headers.Add("Cookie", "session=cookie-secret");
        using var refused = await app.Client.SendAsync(trace);
        await AssertProblemAsync(refused, HttpStatusCode.MethodNotAllowed, "method_not_allowed");
        await AssertInvokedAsync("/api/trace");

        // The host forwards Max-Forwards to the worker as the client sent it: at 0 the core answers OPTIONS itself.
        using var options = new HttpRequestMessage(HttpMethod.Options, "/api/options");
        options.Headers.Add("Max-Forwards", "0");
        using var answered = await app.Client.SendAsync(options);
        Assert.Equal(HttpStatusCode.OK, answered.StatusCode);
        Assert.Equal(["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"], answered.Content.Headers.Allow.Order(StringComparer.Ordinal));
        await AssertInvokedAsync("/api/options");

        Assert.Equal(before, app.Echo.RequestCount);
    }

    [Fact]
    public async Task A_streamed_post_reaches_the_upstream_before_the_client_has_sent_it_all()
    {
        var firstBytesAtUpstream = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        app.ProgrammableHandler.Set(async context =>
        {
            var (length, sha256) = await StreamedBody.ReadAllAsync(context.Request.Body, () => firstBytesAtUpstream.TrySetResult());
            await context.Response.WriteAsync($"{length}:{sha256}");
        });

        // The client holds back all but the first megabyte until the upstream has seen bytes: a host, worker or
        // gateway that buffered the body would never let that happen, and the request would time out.
        using var content = new GatedContent(Chunk, 16, firstBytesAtUpstream.Task);
        using var response = await app.Client.PostAsync("/stream/upload", content);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal($"{content.Length}:{content.Sha256}", await response.Content.ReadAsStringAsync());
        await AssertInvokedAsync("/stream/upload");
    }

    [Fact]
    public async Task A_streamed_response_reaches_the_client_before_the_upstream_has_finished()
    {
        var clientGotFirstBytes = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        app.ProgrammableHandler.Set(context => StreamedBody.WriteGatedAsync(context.Response.Body, Chunk, 8, clientGotFirstBytes.Task));

        using var response = await app.Client.GetAsync("/stream/download", HttpCompletionOption.ResponseHeadersRead);
        await using var body = await response.Content.ReadAsStreamAsync();
        var (total, _) = await StreamedBody.ReadAllAsync(body, () => clientGotFirstBytes.TrySetResult());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(8L * Chunk, total);
        await AssertInvokedAsync("/stream/download");
    }

    [Fact]
    public async Task An_authenticated_route_needs_a_valid_api_key_which_never_reaches_the_upstream()
    {
        await app.ApiKeys.CreateIfNotExistsAsync();
        var (key, keyId) = ApiKeyFormat.Generate();
        var record = new ApiKeyRecord(ApiKeyFormat.Hash(key), keyId, "acme", "acme prod", "gold", ["orders.read"], true, null, TimeProvider.System.GetUtcNow());
        await app.ApiKeys.UpsertEntityAsync(ApiKeyFormat.ToEntity(record));

        using (var anonymous = await app.Client.GetAsync("/keys/x"))
        {
            await AssertProblemAsync(anonymous, HttpStatusCode.Unauthorized, "unauthenticated");
        }

        using var request = new HttpRequestMessage(HttpMethod.Get, "/keys/x");
        request.Headers.Add("X-API-Key", key);
        using var response = await app.Client.SendAsync(request);
        var echo = await ReadEchoAsync(response);

        Assert.Equal(["acme"], echo.Headers["x-consumer-id"]);
        Assert.Equal([keyId], echo.Headers["x-consumer-key-id"]);
        Assert.False(echo.Headers.ContainsKey("x-api-key"));
    }

    [Fact]
    public async Task Over_the_limit_a_rate_limited_route_answers_429_and_the_upstream_is_not_called()
    {
        await AwayFromWindowBoundaryAsync(TimeSpan.FromHours(1));
        var before = app.Echo.RequestCount;

        for (var i = 0; i < FunctionsAppFixture.PerIpLimit; i++)
        {
            using var ok = await app.Client.GetAsync("/limited");
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        using var refused = await app.Client.GetAsync("/limited");

        await AssertProblemAsync(refused, HttpStatusCode.TooManyRequests, "rate_limited");
        Assert.InRange(int.Parse(refused.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture), 1, 3600);
        Assert.Equal(FunctionsAppFixture.PerIpLimit, app.Echo.RequestCount - before);
        await AssertInvokedAsync("/limited");
    }

    [Fact]
    public async Task The_admin_prefix_answers_through_the_functions_host_and_needs_the_key()
    {
        using (var healthz = await app.Client.GetAsync("/_gateway/healthz"))
        {
            Assert.Equal(HttpStatusCode.OK, healthz.StatusCode);
            Assert.Equal("ready", (await healthz.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());
        }

        using (var withoutKey = await app.Client.GetAsync("/_gateway/routes"))
        {
            await AssertProblemAsync(withoutKey, HttpStatusCode.Unauthorized, "admin_unauthorized");
        }

        using var routes = await app.Client.SendAsync(FunctionsAppFixture.AdminRequest(HttpMethod.Get, "routes"));
        Assert.Equal(HttpStatusCode.OK, routes.StatusCode);
        var listed = (await routes.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("routes").EnumerateArray()
            .Select(r => r.GetProperty("id").GetString());
        Assert.Contains("api", listed);

        using var reload = await app.Client.SendAsync(FunctionsAppFixture.AdminRequest(HttpMethod.Post, "reload"));
        Assert.Equal(HttpStatusCode.OK, reload.StatusCode);

        // Every seeded row is valid: a test that seemed to pass against a rejected route would prove nothing.
        using var rejected = await app.Client.SendAsync(FunctionsAppFixture.AdminRequest(HttpMethod.Get, "rejected"));
        var rejectedText = await rejected.Content.ReadAsStringAsync();
        Assert.Empty(JsonDocument.Parse(rejectedText).RootElement.GetProperty("rejected").EnumerateArray());
    }

    [Fact]
    public async Task A_route_under_the_hosts_reserved_paths_is_rejected_with_the_reason_and_listed()
    {
        // The Functions host never delivers /admin or /runtime/webhooks to a function, so the app quarantines such a
        // route instead of pretending to serve it. The row is removed again: the other tests expect no rejected rows.
        await app.UpsertRouteAsync("hooks", "/runtime/webhooks/{**rest}", app.Echo.BaseAddress.ToString());
        try
        {
            using (var reload = await app.Client.SendAsync(FunctionsAppFixture.AdminRequest(HttpMethod.Post, "reload")))
            {
                Assert.Equal(HttpStatusCode.OK, reload.StatusCode);
            }

            using var rejected = await app.Client.SendAsync(FunctionsAppFixture.AdminRequest(HttpMethod.Get, "rejected"));
            var row = Assert.Single(JsonDocument.Parse(await rejected.Content.ReadAsStringAsync()).RootElement.GetProperty("rejected").EnumerateArray());
            Assert.Equal("hooks", row.GetProperty("rowKey").GetString());
            Assert.Contains(
                "under /runtime/webhooks/, which the Azure Functions host keeps for itself",
                string.Join(" ", row.GetProperty("errors").EnumerateArray().Select(e => e.GetString())),
                StringComparison.Ordinal);
        }
        finally
        {
            await app.Routes.DeleteEntityAsync("default", "hooks");
            using var reload = await app.Client.SendAsync(FunctionsAppFixture.AdminRequest(HttpMethod.Post, "reload"));
        }
    }

    [Fact]
    public async Task The_dashboard_is_served_through_the_functions_host_with_its_policy_and_its_data_needs_the_key()
    {
        using (var page = await app.Client.GetAsync("/_gateway/dashboard"))
        {
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
            Assert.StartsWith("default-src 'none'; script-src 'self';", page.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
            Assert.Equal("nosniff", page.Headers.GetValues("X-Content-Type-Options").Single());
            Assert.Contains("/_gateway/dashboard/dashboard.js", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using (var script = await app.Client.GetAsync("/_gateway/dashboard/dashboard.js"))
        {
            Assert.Equal(HttpStatusCode.OK, script.StatusCode);
            Assert.Equal("text/javascript", script.Content.Headers.ContentType?.MediaType);
        }

        using (var withoutKey = await app.Client.GetAsync("/_gateway/dashboard/data"))
        {
            await AssertProblemAsync(withoutKey, HttpStatusCode.Unauthorized, "admin_unauthorized");
        }

        using (var proxied = await app.Client.GetAsync("/api/dashboard-traffic"))
        {
            await ReadEchoAsync(proxied);
        }

        using var data = await app.Client.SendAsync(FunctionsAppFixture.AdminRequest(HttpMethod.Get, "dashboard/data"));
        Assert.Equal(HttpStatusCode.OK, data.StatusCode);
        Assert.True(data.Headers.CacheControl?.NoStore);
        var api = (await data.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("routes").EnumerateArray()
            .Single(r => r.GetProperty("id").GetString() == "api");
        Assert.True(api.GetProperty("requests").GetInt64() >= 1);
    }

    [Fact]
    public async Task The_client_address_comes_from_the_hosts_forwarded_headers_not_from_the_client()
    {
        // Where the two hosts differ: FuncGateway.Server sees the client as its socket peer. Here the worker's peer
        // is always the host (loopback), and the client's address, scheme and host arrive in the X-Forwarded-* headers
        // the host's forwarder sets; the worker and the core trust them because the peer is loopback. What the client
        // wrote into those headers itself must not survive: the host's forwarder replaces it.
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/whoami");
        request.Headers.TryAddWithoutValidation("X-Forwarded-For", "6.6.6.6");
        request.Headers.TryAddWithoutValidation("X-Forwarded-Proto", "https");
        request.Headers.TryAddWithoutValidation("X-Forwarded-Host", "evil.example");

        using var response = await app.Client.SendAsync(request);
        var echo = await ReadEchoAsync(response);

        Assert.Equal(["127.0.0.1"], echo.Headers["x-forwarded-for"]);
        Assert.Equal(["http"], echo.Headers["x-forwarded-proto"]);
        Assert.Equal([app.Client.BaseAddress!.Authority], echo.Headers["x-forwarded-host"]);
    }

    [Fact]
    public async Task Headers_of_the_functions_plumbing_never_reach_the_upstream()
    {
        // The host adds x-ms-invocation-id to pair the request with its invocation; the worker's forwarded-headers
        // middleware adds X-Original-For/-Proto with what it replaced (the host's loopback address and port). An
        // upstream behind FuncGateway.Server sees none of them, and neither may one behind the Functions app.
        // The App Service front end adds its own headers too (X-ARR-SSL, DISGUISED-HOST, and with Easy Auth the signed-in
        // user and their tokens); a client may also write them. None of them is the upstream's business.
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/plumbing");
        request.Headers.TryAddWithoutValidation("X-ARR-SSL", "2048|256|CN=front-end");
        request.Headers.TryAddWithoutValidation("X-WAWS-Unencoded-URL", "/admin/host/status");
        request.Headers.TryAddWithoutValidation("DISGUISED-HOST", "internal.example");
        request.Headers.TryAddWithoutValidation("X-MS-CLIENT-PRINCIPAL-NAME", "admin@contoso.example");
        request.Headers.TryAddWithoutValidation("X-MS-TOKEN-AAD-REFRESH-TOKEN", "refresh-secret");
        using var response = await app.Client.SendAsync(request);
        var echo = await ReadEchoAsync(response);

        Assert.DoesNotContain("x-arr-ssl", echo.Headers.Keys);
        Assert.DoesNotContain("x-waws-unencoded-url", echo.Headers.Keys);
        Assert.DoesNotContain("disguised-host", echo.Headers.Keys);
        Assert.DoesNotContain("x-ms-client-principal-name", echo.Headers.Keys);
        Assert.DoesNotContain("x-ms-token-aad-refresh-token", echo.Headers.Keys);

        Assert.DoesNotContain("x-ms-invocation-id", echo.Headers.Keys);
        Assert.DoesNotContain("x-original-for", echo.Headers.Keys);
        Assert.DoesNotContain("x-original-proto", echo.Headers.Keys);
        Assert.DoesNotContain("x-original-host", echo.Headers.Keys);
        await AssertInvokedAsync("/api/plumbing");
    }

    private async Task AssertInvokedAsync(string path)
    {
        var invocation = await app.InvocationForAsync(path);
        Assert.Equal(GatewayFunctionName, invocation.FunctionName);
        Assert.True(invocation.Failure is null, $"The invocation for {path} failed: {invocation.Failure}{app.Host.DescribeWorker()}");
    }

    private async Task<EchoResponse> ReadEchoAsync(HttpResponseMessage response)
    {
        Assert.True(response.IsSuccessStatusCode,
            $"Expected success, got {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}{app.Host.DescribeWorker()}");
        return await response.ReadEchoAsync();
    }

    private async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"Expected {(int)status}, got {(int)response.StatusCode}: {text}{app.Host.DescribeWorker()}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var json = JsonDocument.Parse(text).RootElement;
        Assert.Equal(code, json.GetProperty("code").GetString());
        Assert.False(string.IsNullOrEmpty(json.GetProperty("traceId").GetString()));
    }

    /// <summary>
    /// Waits, if need be, until the current window has at least 20 s left. When it waits, it waits until one second
    /// past the boundary: the gateway counts windows on the storage service's clock, estimated from whole-second Date
    /// headers (off by up to half a second plus half a round trip), so 50 ms past the boundary it may still be in the
    /// old window, and the test's requests would be split between two windows' counters.
    /// </summary>
    private static async Task AwayFromWindowBoundaryAsync(TimeSpan window)
    {
        var windowMs = (long)window.TotalMilliseconds;
        var left = windowMs - (TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds() % windowMs);
        if (left < 20_000)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(left + 1000));
        }
    }
}
