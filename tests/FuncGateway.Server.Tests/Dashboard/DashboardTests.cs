using System.Net;
using FuncGateway.Server.Tests.Infrastructure;
using FuncGateway.Testing;

namespace FuncGateway.Server.Tests.Dashboard;

/// <summary>
/// The dashboard over HTTP, through the real server, real upstreams and Azurite: what is served without the key and
/// what needs it, the security headers, and that the data says what the traffic did (requests, errors, percentiles,
/// the status of a route whose upstream is dead, a rejected row and why, rate-limit decisions).
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class DashboardTests(AzuriteFixture azurite)
{
    [Theory]
    [InlineData("/_gateway/dashboard", "text/html")]
    [InlineData("/_gateway/dashboard/", "text/html")]
    [InlineData("/_gateway/dashboard/dashboard.js", "text/javascript")]
    [InlineData("/_gateway/dashboard/dashboard.css", "text/css")]
    public async Task The_page_and_its_assets_are_served_without_the_key_under_a_strict_policy(string path, string mediaType)
    {
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString);

        using var response = await gateway.Client.GetAsync(path);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(mediaType, response.Content.Headers.ContentType?.MediaType);
        AssertSecurityHeaders(response);
        Assert.True(response.Headers.CacheControl?.NoCache);
        var etag = response.Headers.ETag;
        Assert.NotNull(etag);

        // Revalidation: the same ETag answers 304 without the body.
        using var again = new HttpRequestMessage(HttpMethod.Get, path);
        again.Headers.IfNoneMatch.Add(etag);
        using var notModified = await gateway.Client.SendAsync(again);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
    }

    [Fact]
    public async Task The_page_loads_nothing_from_elsewhere_and_has_no_inline_script_or_style()
    {
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString);

        var html = await gateway.Client.GetStringAsync("/_gateway/dashboard");

        Assert.Contains("<script src=\"/_gateway/dashboard/dashboard.js\" defer></script>", html, StringComparison.Ordinal);
        Assert.Contains("<link rel=\"stylesheet\" href=\"/_gateway/dashboard/dashboard.css\">", html, StringComparison.Ordinal);
        Assert.DoesNotContain("http://", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("https://", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("style=", html, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(1, html.Split("<script", StringSplitOptions.None).Length - 1);

        // The key field has no name and the form no action: nothing can submit the key into a URL.
        Assert.Contains("<form id=\"key-form\">", html, StringComparison.Ordinal);
        Assert.Contains("<input id=\"key\" type=\"password\" autocomplete=\"off\" spellcheck=\"false\" required>", html, StringComparison.Ordinal);
        Assert.DoesNotContain("action=", html, StringComparison.Ordinal);

        // What the page tells the operator about the key is what the script does: memory only, never the tab's storage.
        Assert.Contains("kept in this page's memory only", html, StringComparison.Ordinal);
        Assert.DoesNotContain("session storage", html, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task The_data_needs_the_admin_key_and_is_never_cached()
    {
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString);

        using var withoutKey = await gateway.Client.GetAsync("/_gateway/dashboard/data");
        await Problem.AssertAsync(withoutKey, HttpStatusCode.Unauthorized, "admin_unauthorized");
        AssertSecurityHeaders(withoutKey);
        Assert.True(withoutKey.Headers.CacheControl?.NoStore);

        using var request = new HttpRequestMessage(HttpMethod.Get, "/_gateway/dashboard/data");
        request.Headers.Add("X-Admin-Key", GatewayHost.AdminKey);
        using var response = await gateway.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.True(response.Headers.CacheControl?.NoStore);
        AssertSecurityHeaders(response);
    }

    [Fact]
    public async Task Without_a_configured_key_there_is_no_dashboard()
    {
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString, new Dictionary<string, string?> { ["FuncGateway:Admin:Key"] = "" });

        using var page = await gateway.Client.GetAsync("/_gateway/dashboard");
        await Problem.AssertAsync(page, HttpStatusCode.NotFound, "route_not_found");
    }

    [Fact]
    public async Task The_data_shows_each_routes_traffic_status_rejected_rows_and_rate_limit_decisions()
    {
        await using var upstream = await TestUpstream.StartAsync("dashboard-live");
        var dead = $"http://127.0.0.1:{LoopbackPorts.GetRefusing()}";
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString, new Dictionary<string, string?>
        {
            ["FuncGateway:RateLimits:Policies:three:Limit"] = "3",
            ["FuncGateway:RateLimits:Policies:three:WindowSeconds"] = "3600",
            ["FuncGateway:RateLimits:Policies:three:Mode"] = "Strict",
        });
        await gateway.UpsertRouteAsync("live", "/live/{**rest}", upstream.BaseAddress.ToString());
        await gateway.UpsertRouteAsync("dead", "/dead/{**rest}", dead);
        await gateway.UpsertRouteAsync("limited", "/limited", upstream.BaseAddress.ToString(), ("RateLimit", "three"));
        await gateway.UpsertRouteAsync("broken", "/broken", upstream.BaseAddress.ToString(), ("Methods", "FETCH IT"));
        await gateway.ReloadAsync();

        for (var i = 0; i < 5; i++)
        {
            using var ok = await gateway.Client.GetAsync("/live/" + i);
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        using (var notFound = await gateway.Client.GetAsync("/nowhere"))
        {
            // A 404 that belongs to no route: counted nowhere.
            Assert.Equal(HttpStatusCode.NotFound, notFound.StatusCode);
        }

        for (var i = 0; i < 2; i++)
        {
            using var failed = await gateway.Client.GetAsync("/dead/" + i);
            Assert.Equal(HttpStatusCode.BadGateway, failed.StatusCode);
        }

        for (var i = 0; i < 4; i++)
        {
            using var limited = await gateway.Client.GetAsync("/limited");
            Assert.Equal(i < 3 ? HttpStatusCode.OK : HttpStatusCode.TooManyRequests, limited.StatusCode);
        }

        var data = await gateway.AdminGetAsync("dashboard/data");
        var routes = data.GetProperty("routes").EnumerateArray().ToDictionary(r => r.GetProperty("id").GetString()!);

        var live = routes["live"];
        Assert.Equal("ok", live.GetProperty("status").GetString());
        Assert.Equal(5, live.GetProperty("requests").GetInt64());
        Assert.Equal(5, live.GetProperty("recentRequests").GetInt64());
        Assert.Equal(0, live.GetProperty("recentServerErrors").GetInt64());
        Assert.Equal(5, live.GetProperty("series").EnumerateArray().Sum(v => v.GetInt64()));
        Assert.Equal(30, live.GetProperty("series").GetArrayLength());
        var p50 = live.GetProperty("p50Ms").GetDouble();
        var p99 = live.GetProperty("p99Ms").GetDouble();
        Assert.InRange(p50, 0.0001, 10_000);
        Assert.True(p99 >= p50);

        var deadRoute = routes["dead"];
        Assert.Equal("down", deadRoute.GetProperty("status").GetString());
        Assert.Contains("2 of 2 requests in the last 30 s failed with 5xx", deadRoute.GetProperty("statusReason").GetString(), StringComparison.Ordinal);
        Assert.Equal(2, deadRoute.GetProperty("recentServerErrors").GetInt64());
        Assert.Equal(1.0, deadRoute.GetProperty("errorRate").GetDouble());

        var limitedRoute = routes["limited"];
        Assert.Equal(4, limitedRoute.GetProperty("requests").GetInt64());
        Assert.Equal(1, limitedRoute.GetProperty("recentClientErrors").GetInt64());

        Assert.Equal(11, data.GetProperty("totals").GetProperty("requests").GetInt64());
        Assert.Equal(1, data.GetProperty("totals").GetProperty("down").GetInt32());

        var rejected = Assert.Single(data.GetProperty("rejected").EnumerateArray());
        Assert.Equal("broken", rejected.GetProperty("rowKey").GetString());
        Assert.Contains("Methods", string.Join(" ", rejected.GetProperty("errors").EnumerateArray().Select(e => e.GetString())), StringComparison.Ordinal);

        var policy = Assert.Single(data.GetProperty("rateLimits").EnumerateArray(), p => p.GetProperty("name").GetString() == "three");
        Assert.Equal(3, policy.GetProperty("limit").GetInt64());
        Assert.Equal(3, policy.GetProperty("allowed").GetInt64());
        Assert.Equal(1, policy.GetProperty("rejected").GetInt64());
        Assert.Equal(1, policy.GetProperty("partitions").GetInt32());

        var pools = data.GetProperty("health").GetProperty("pools").EnumerateArray().Select(p => p.GetProperty("name").GetString()).ToList();
        Assert.Contains(dead, pools);
    }

    private static void AssertSecurityHeaders(HttpResponseMessage response)
    {
        var csp = response.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Contains("default-src 'none'", csp, StringComparison.Ordinal);
        Assert.Contains("script-src 'self'", csp, StringComparison.Ordinal);
        Assert.Contains("style-src 'self'", csp, StringComparison.Ordinal);
        Assert.Contains("connect-src 'self'", csp, StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-inline", csp, StringComparison.Ordinal);
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("DENY", response.Headers.GetValues("X-Frame-Options").Single());
        Assert.Equal("same-origin", response.Headers.GetValues("Cross-Origin-Opener-Policy").Single());
    }
}
