using System.Net;
using FuncGateway.Server.Tests.Infrastructure;
using FuncGateway.Server.Tests.RateLimiting;
using FuncGateway.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace FuncGateway.Server.Tests.Cors;

/// <summary>CORS through the real server and Azurite, seen as a browser's requests see it (without a browser: see the Browser tests for that).</summary>
[Collection(AzuriteCollection.Name)]
public sealed class CorsTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private const string App = "https://app.example.com";
    private const string Evil = "https://evil.example.net";

    private static readonly Dictionary<string, string?> Settings = new()
    {
        ["FuncGateway:Cors:Policies:web:AllowedOrigins"] = App + ",https://*.example.org",
        ["FuncGateway:Cors:Policies:web:AllowedMethods"] = "GET,PUT,DELETE",
        ["FuncGateway:Cors:Policies:web:AllowedHeaders"] = "Content-Type,X-API-Key",
        ["FuncGateway:Cors:Policies:web:ExposedHeaders"] = "X-Total-Count",
        ["FuncGateway:Cors:Policies:web:AllowCredentials"] = "true",
        ["FuncGateway:Cors:Policies:web:MaxAgeSeconds"] = "600",
        ["FuncGateway:Cors:Policies:public_read:AllowedOrigins"] = "*",
        ["FuncGateway:Auth:Policies:keys:Type"] = "ApiKey",
        ["FuncGateway:RateLimits:Policies:one:Limit"] = "1",
        ["FuncGateway:RateLimits:Policies:one:WindowSeconds"] = "86400",
        ["FuncGateway:RateLimits:Policies:one:Mode"] = "Strict",
    };

    private static readonly string[] PreflightVary = ["Origin", "Access-Control-Request-Method", "Access-Control-Request-Headers"];

    private TestUpstream _upstream = null!;

    public async Task InitializeAsync() =>

        // An upstream with a CORS policy of its own, far more open than the gateway's: the browser must never see it.
        _upstream = await TestUpstream.StartAsync("cors-upstream", app => app.Run(async context =>
        {
            context.Response.Headers.AccessControlAllowOrigin = "*";
            context.Response.Headers.AccessControlAllowMethods = "GET,POST,PUT,PATCH,DELETE";
            context.Response.Headers.AccessControlExposeHeaders = "X-Secret";
            context.Response.Headers.Vary = "Accept-Encoding";
            context.Response.Headers["X-Total-Count"] = "42";
            await context.Response.WriteAsync("upstream says hi");
        }));

    public async Task DisposeAsync() => await _upstream.DisposeAsync();

    [Fact]
    public async Task A_preflight_is_answered_by_the_gateway_with_exactly_the_policy_never_authenticated_limited_or_forwarded()
    {
        await RateLimitTestSupport.AwayFromWindowBoundaryAsync(86400);
        await using var gateway = await StartAsync();
        // GET and PUT only (no OPTIONS), an API key required, one request a day per client.
        await gateway.UpsertRouteAsync("orders", "/api/orders/{id}", _upstream.BaseAddress.ToString(),
            ("Methods", "GET,PUT"), ("Auth", "keys"), ("RateLimit", "one"), ("Cors", "web"));
        await gateway.ReloadAsync();

        for (var i = 0; i < 3; i++)
        {
            using var preflight = await PreflightAsync(gateway, "/api/orders/7", App, "PUT", "content-type,x-api-key");

            Assert.Equal(HttpStatusCode.NoContent, preflight.StatusCode);
            Assert.Equal(App, Single(preflight, "Access-Control-Allow-Origin"));
            Assert.Equal("true", Single(preflight, "Access-Control-Allow-Credentials"));
            Assert.Equal("GET,PUT,DELETE", Single(preflight, "Access-Control-Allow-Methods"));
            Assert.Equal("Content-Type,X-API-Key", Single(preflight, "Access-Control-Allow-Headers"));
            Assert.Equal("600", Single(preflight, "Access-Control-Max-Age"));
            Assert.Equal(PreflightVary, Vary(preflight));
            Assert.False(preflight.Headers.Contains("Access-Control-Expose-Headers"));
            Assert.False(preflight.Headers.Contains("WWW-Authenticate"));
            Assert.False(preflight.Headers.Contains("RateLimit"));
        }

        Assert.Equal(0, _upstream.RequestCount);

        // The limit of one is still there for the actual request: the preflights did not count. That one is refused
        // for want of a key (401), and a browser can read why.
        using var actual = await SendAsync(gateway, HttpMethod.Put, "/api/orders/7", App);
        await Problem.AssertAsync(actual, HttpStatusCode.Unauthorized, "unauthenticated");
        Assert.Equal(App, Single(actual, "Access-Control-Allow-Origin"));
        Assert.Equal("true", Single(actual, "Access-Control-Allow-Credentials"));
        Assert.Contains("Origin", Vary(actual));
    }

    [Fact]
    public async Task A_preflight_from_an_origin_not_allowed_gets_204_without_any_allow_header_and_reaches_nothing()
    {
        await using var gateway = await StartAsync();
        await gateway.UpsertRouteAsync("orders", "/api/orders/{id}", _upstream.BaseAddress.ToString(), ("Methods", "GET,PUT"), ("Cors", "web"));
        await gateway.ReloadAsync();

        // Not origins at all, though a wildcard's subdomain match would take them: user information, a path, a query.
        foreach (var origin in new[] { Evil, "https://example.org", "http://api.example.org", "null",
            "https://u@shop.example.org", "https://shop.example.org/x", "https://shop.example.org?x=1" })
        {
            using var preflight = await PreflightAsync(gateway, "/api/orders/7", origin, "PUT", null);

            Assert.Equal(HttpStatusCode.NoContent, preflight.StatusCode);
            Assert.Empty(AccessControlHeaders(preflight));
            Assert.Equal(PreflightVary, Vary(preflight));
        }

        // A subdomain of the pattern is allowed.
        using var sub = await PreflightAsync(gateway, "/api/orders/7", "https://shop.example.org", "PUT", null);
        Assert.Equal("https://shop.example.org", Single(sub, "Access-Control-Allow-Origin"));
        Assert.Equal(0, _upstream.RequestCount);
    }

    [Fact]
    public async Task A_preflight_for_a_route_without_cors_or_a_method_no_cors_route_takes_gets_no_allow_headers()
    {
        await using var gateway = await StartAsync();
        await gateway.UpsertRouteAsync("plain", "/plain", _upstream.BaseAddress.ToString(), ("Methods", "GET"));
        await gateway.UpsertRouteAsync("orders", "/api/orders/{id}", _upstream.BaseAddress.ToString(), ("Methods", "GET,PUT"), ("Cors", "web"));
        await gateway.ReloadAsync();

        // No CORS on the route: the gateway takes no part; OPTIONS is not one of its methods, so 405 as before.
        using var plain = await PreflightAsync(gateway, "/plain", App, "GET", null);
        await Problem.AssertAsync(plain, HttpStatusCode.MethodNotAllowed, "method_not_allowed");
        Assert.Empty(AccessControlHeaders(plain));

        // The CORS route does not take DELETE: no route answers the preflight, so it is refused as an OPTIONS request.
        using var delete = await PreflightAsync(gateway, "/api/orders/7", App, "DELETE", null);
        await Problem.AssertAsync(delete, HttpStatusCode.MethodNotAllowed, "method_not_allowed");
        Assert.Empty(AccessControlHeaders(delete));
        Assert.Equal(0, _upstream.RequestCount);
    }

    [Fact]
    public async Task An_actual_request_gets_the_gateways_headers_only_and_the_upstreams_own_cors_headers_never_reach_the_browser()
    {
        await using var gateway = await StartAsync();
        await gateway.UpsertRouteAsync("orders", "/api/orders/{id}", _upstream.BaseAddress.ToString(), ("Cors", "web"));
        await gateway.UpsertRouteAsync("open", "/open", _upstream.BaseAddress.ToString(), ("Cors", "public_read"));
        await gateway.ReloadAsync();

        using var allowed = await SendAsync(gateway, HttpMethod.Get, "/api/orders/7", App);
        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        Assert.Equal("upstream says hi", await allowed.Content.ReadAsStringAsync());
        Assert.Equal(App, Single(allowed, "Access-Control-Allow-Origin"));
        Assert.Equal("true", Single(allowed, "Access-Control-Allow-Credentials"));
        Assert.Equal("X-Total-Count", Single(allowed, "Access-Control-Expose-Headers"));
        Assert.False(allowed.Headers.Contains("Access-Control-Allow-Methods"));
        Assert.Equal(["Accept-Encoding", "Origin"], Vary(allowed));

        using var refused = await SendAsync(gateway, HttpMethod.Get, "/api/orders/7", Evil);
        Assert.Equal(HttpStatusCode.OK, refused.StatusCode);
        Assert.Empty(AccessControlHeaders(refused));
        Assert.Equal(["Accept-Encoding", "Origin"], Vary(refused));

        // Without an Origin (not a browser's cross-origin request) the answer still says it varies by Origin.
        using var none = await SendAsync(gateway, HttpMethod.Get, "/api/orders/7", null);
        Assert.Empty(AccessControlHeaders(none));
        Assert.Contains("Origin", Vary(none));

        // '*' without credentials: the literal '*', never the caller's origin reflected.
        using var open = await SendAsync(gateway, HttpMethod.Get, "/open", Evil);
        Assert.Equal("*", Single(open, "Access-Control-Allow-Origin"));
        Assert.False(open.Headers.Contains("Access-Control-Allow-Credentials"));
        Assert.False(open.Headers.Contains("Access-Control-Expose-Headers"));
    }

    [Fact]
    public async Task A_cached_answer_carries_the_cors_headers_of_the_origin_asking_now_never_those_of_the_one_that_filled_the_cache()
    {
        await using var gateway = await StartAsync();
        await gateway.UpsertRouteAsync("orders", "/api/orders/{id}", _upstream.BaseAddress.ToString(), ("Cors", "web"), ("Cache", "{\"ttlSeconds\":60}"));
        await gateway.ReloadAsync();

        using var first = await SendAsync(gateway, HttpMethod.Get, "/api/orders/7", App);
        Assert.Equal("miss", Single(first, "X-Cache"));
        Assert.Equal(App, Single(first, "Access-Control-Allow-Origin"));

        using var evil = await SendAsync(gateway, HttpMethod.Get, "/api/orders/7", Evil);
        Assert.Equal("hit", Single(evil, "X-Cache"));
        Assert.Equal("upstream says hi", await evil.Content.ReadAsStringAsync());
        Assert.Empty(AccessControlHeaders(evil));
        Assert.Equal(["Accept-Encoding", "Origin"], Vary(evil));

        using var other = await SendAsync(gateway, HttpMethod.Get, "/api/orders/7", "https://shop.example.org");
        Assert.Equal("hit", Single(other, "X-Cache"));
        Assert.Equal("https://shop.example.org", Single(other, "Access-Control-Allow-Origin"));
        Assert.Equal("X-Total-Count", Single(other, "Access-Control-Expose-Headers"));
        Assert.Equal(["Accept-Encoding", "Origin"], Vary(other));
    }

    [Fact]
    public async Task On_a_cached_route_without_cors_a_hit_carries_the_upstreams_own_cors_headers()
    {
        await using var gateway = await StartAsync();
        await gateway.UpsertRouteAsync("plain", "/plain", _upstream.BaseAddress.ToString(), ("Cache", "{\"ttlSeconds\":60}"));
        await gateway.ReloadAsync();

        using var miss = await SendAsync(gateway, HttpMethod.Get, "/plain", Evil);
        using var hit = await SendAsync(gateway, HttpMethod.Get, "/plain", App);

        Assert.Equal(("miss", "hit"), (Single(miss, "X-Cache"), Single(hit, "X-Cache")));
        Assert.Equal("*", Single(hit, "Access-Control-Allow-Origin"));
        Assert.Equal("GET,POST,PUT,PATCH,DELETE", Single(hit, "Access-Control-Allow-Methods"));
        Assert.Equal("X-Secret", Single(hit, "Access-Control-Expose-Headers"));
        Assert.Equal(["Accept-Encoding"], Vary(hit));
    }

    [Fact]
    public async Task On_a_route_without_cors_the_upstreams_headers_pass_untouched()
    {
        await using var gateway = await StartAsync();
        await gateway.UpsertRouteAsync("plain", "/plain", _upstream.BaseAddress.ToString());
        await gateway.ReloadAsync();

        using var response = await SendAsync(gateway, HttpMethod.Get, "/plain", Evil);

        Assert.Equal("*", Single(response, "Access-Control-Allow-Origin"));
        Assert.Equal(["Accept-Encoding"], Vary(response));
    }

    [Fact]
    public async Task The_gateways_own_errors_on_a_cors_route_carry_the_cors_headers_so_a_page_can_read_them()
    {
        await RateLimitTestSupport.AwayFromWindowBoundaryAsync(86400);
        await using var gateway = await StartAsync();
        await gateway.UpsertRouteAsync("limited", "/limited", _upstream.BaseAddress.ToString(), ("RateLimit", "one"), ("Cors", "web"));
        await gateway.UpsertRouteAsync("down", "/down", "http://127.0.0.1:" + LoopbackPorts.GetRefusing(), ("Cors", "web"));
        await gateway.ReloadAsync();

        (await SendAsync(gateway, HttpMethod.Get, "/limited", App)).Dispose();
        using var limited = await SendAsync(gateway, HttpMethod.Get, "/limited", App);
        await Problem.AssertAsync(limited, HttpStatusCode.TooManyRequests, "rate_limited");
        Assert.Equal(App, Single(limited, "Access-Control-Allow-Origin"));
        Assert.Equal("true", Single(limited, "Access-Control-Allow-Credentials"));
        Assert.Equal(["Origin"], Vary(limited));
        Assert.True(limited.Headers.Contains("Retry-After"));

        using var down = await SendAsync(gateway, HttpMethod.Get, "/down", Evil);
        await Problem.AssertAsync(down, HttpStatusCode.BadGateway, "upstream_unreachable");
        Assert.Empty(AccessControlHeaders(down));
        Assert.Equal(["Origin"], Vary(down));
    }

    [Fact]
    public async Task A_route_naming_an_unknown_policy_is_rejected_and_the_others_keep_working()
    {
        await using var gateway = await StartAsync();
        await gateway.UpsertRouteAsync("typo", "/typo", _upstream.BaseAddress.ToString(), ("Cors", "wbe"));
        await gateway.UpsertRouteAsync("fine", "/fine", _upstream.BaseAddress.ToString(), ("Cors", "web"));
        await gateway.ReloadAsync();

        var rejected = (await gateway.AdminGetAsync("rejected")).GetProperty("rejected").EnumerateArray().Single();
        Assert.Equal("typo", rejected.GetProperty("rowKey").GetString());
        Assert.Equal("Cors names unknown policy 'wbe'. Configured policies: public_read, web.", rejected.GetProperty("errors")[0].GetString());
        using var typo = await SendAsync(gateway, HttpMethod.Get, "/typo", App);
        await Problem.AssertAsync(typo, HttpStatusCode.NotFound, "route_not_found");
        using var fine = await SendAsync(gateway, HttpMethod.Get, "/fine", App);
        Assert.Equal(App, Single(fine, "Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task An_unsafe_policy_stops_the_gateway_from_starting()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => GatewayHost.StartAsync(azurite.ConnectionString, new Dictionary<string, string?>
        {
            ["FuncGateway:Cors:Policies:web:AllowedOrigins"] = "*",
            ["FuncGateway:Cors:Policies:web:AllowCredentials"] = "true",
        }));

        Assert.Contains("FuncGateway:Cors:Policies:web:AllowedOrigins: '*' together with AllowCredentials=true", error.Message, StringComparison.Ordinal);
    }

    private Task<GatewayHost> StartAsync() => GatewayHost.StartAsync(azurite.ConnectionString, new Dictionary<string, string?>(Settings));

    private static async Task<HttpResponseMessage> PreflightAsync(GatewayHost gateway, string path, string origin, string method, string? headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Options, path);
        request.Headers.Add("Origin", origin);
        request.Headers.Add("Access-Control-Request-Method", method);
        if (headers is not null)
        {
            request.Headers.Add("Access-Control-Request-Headers", headers);
        }

        return await gateway.Client.SendAsync(request);
    }

    private static async Task<HttpResponseMessage> SendAsync(GatewayHost gateway, HttpMethod method, string path, string? origin)
    {
        using var request = new HttpRequestMessage(method, path);
        if (origin is not null)
        {
            request.Headers.Add("Origin", origin);
        }

        return await gateway.Client.SendAsync(request);
    }

    private static string Single(HttpResponseMessage response, string name) =>
        Assert.Single(response.Headers.TryGetValues(name, out var values) ? values : []);

    private static string[] Vary(HttpResponseMessage response) =>
        [.. response.Headers.Vary];

    private static List<string> AccessControlHeaders(HttpResponseMessage response) =>
        [.. response.Headers.Concat(response.Content.Headers).Where(h => h.Key.StartsWith("Access-Control-", StringComparison.OrdinalIgnoreCase)).Select(h => h.Key)];
}
