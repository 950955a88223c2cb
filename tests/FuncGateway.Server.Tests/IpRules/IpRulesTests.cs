using System.Net;
using FuncGateway.Authentication.Basic;
using FuncGateway.Server.Tests.Infrastructure;
using FuncGateway.Testing;

namespace FuncGateway.Server.Tests.IpRules;

/// <summary>
/// <c>AllowIps</c>/<c>DenyIps</c> through the real server, Azurite and a real Kestrel upstream: clients on IPv4 and
/// IPv6 loopback sockets, and behind a trusted proxy that reports them in <c>X-Forwarded-For</c>.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class IpRulesTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private TestUpstream _echo = null!;

    public async Task InitializeAsync() => _echo = await TestUpstream.StartAsync("echo");

    public async Task DisposeAsync() => await _echo.DisposeAsync();

    private Task<GatewayHost> StartAsync(IDictionary<string, string?>? settings = null, string url = "http://127.0.0.1:0") =>
        GatewayHost.StartAsync(azurite.ConnectionString, settings, url: url);

    private static async Task<HttpResponseMessage> GetAsync(GatewayHost gateway, string path, string? forwardedFor = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (forwardedFor is not null)
        {
            request.Headers.TryAddWithoutValidation("X-Forwarded-For", forwardedFor);
        }

        return await gateway.Client.SendAsync(request);
    }

    [Fact]
    public async Task An_allowed_client_reaches_the_upstream_and_a_refused_one_gets_403_ip_denied_without_reaching_it()
    {
        await using var gateway = await StartAsync();
        var echo = _echo.BaseAddress.ToString();
        await gateway.UpsertRouteAsync("loopback-only", "/loopback/{**rest}", echo, ("AllowIps", "127.0.0.1"));
        await gateway.UpsertRouteAsync("office-only", "/office/{**rest}", echo, ("AllowIps", "10.0.0.0/8,192.0.2.0/24"));
        await gateway.UpsertRouteAsync("deny-wins", "/both/{**rest}", echo, ("AllowIps", "127.0.0.0/8"), ("DenyIps", "127.0.0.1"));
        await gateway.UpsertRouteAsync("blocklist", "/blocked/{**rest}", echo, ("DenyIps", """["203.0.113.0/24","127.0.0.0/8"]"""));
        await gateway.UpsertRouteAsync("open", "/open/{**rest}", echo, ("DenyIps", "203.0.113.0/24,2001:db8::/32"));
        await gateway.ReloadAsync();

        using var allowed = await GetAsync(gateway, "/loopback/a");
        using var open = await GetAsync(gateway, "/open/a");
        Assert.Equal("/loopback/a", (await Echo.ReadAsync(allowed)).Path);
        Assert.Equal("/open/a", (await Echo.ReadAsync(open)).Path);
        var reached = _echo.RequestCount;

        foreach (var path in new[] { "/office/a", "/both/a", "/blocked/a" })
        {
            using var refused = await GetAsync(gateway, path);
            var problem = await Problem.AssertAsync(refused, HttpStatusCode.Forbidden, "ip_denied");
            Assert.DoesNotContain("127.0.0.1", problem.GetRawText(), StringComparison.Ordinal);
        }

        Assert.Equal(reached, _echo.RequestCount);
    }

    [Fact]
    public async Task A_refused_client_costs_no_authentication_and_no_rate_limit_counter()
    {
        await using var gateway = await StartAsync(new Dictionary<string, string?>
        {
            ["FuncGateway:Auth:Policies:legacy:Type"] = "Basic",
            ["FuncGateway:Auth:Policies:legacy:Users:alice"] = PasswordHash.Create("correct horse", PasswordHash.MinimumIterations).ToString(),
            ["FuncGateway:RateLimits:Policies:per_ip:Limit"] = "2",
            ["FuncGateway:RateLimits:Policies:per_ip:WindowSeconds"] = "3600",
            ["FuncGateway:RateLimits:Policies:per_ip:Mode"] = "Strict",
        });
        var echo = _echo.BaseAddress.ToString();
        await gateway.UpsertRouteAsync("secure", "/secure", echo, ("Auth", "legacy"), ("DenyIps", "127.0.0.1"));
        await gateway.UpsertRouteAsync("limited", "/limited", echo, ("RateLimit", "per_ip"), ("DenyIps", "127.0.0.1"));
        await gateway.ReloadAsync();

        // Without credentials: 403 from the IP rules, not 401 from authentication.
        using var secure = await GetAsync(gateway, "/secure");
        await Problem.AssertAsync(secure, HttpStatusCode.Forbidden, "ip_denied");
        Assert.False(secure.Headers.Contains("WWW-Authenticate"));
        for (var i = 0; i < 3; i++)
        {
            using var refused = await GetAsync(gateway, "/limited");
            await Problem.AssertAsync(refused, HttpStatusCode.Forbidden, "ip_denied");
            Assert.False(refused.Headers.Contains("RateLimit"));
        }

        // The same client, once the rule is gone: its first request finds the whole limit left.
        await gateway.UpsertRouteAsync("limited", "/limited", echo, ("RateLimit", "per_ip"));
        await gateway.ReloadAsync();
        using var first = await GetAsync(gateway, "/limited");

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.StartsWith("\"per_ip\";r=1;", Assert.Single(first.Headers.GetValues("RateLimit")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bad_entry_rejects_only_its_row_naming_the_entry()
    {
        await using var gateway = await StartAsync();
        await gateway.UpsertRouteAsync("typo", "/typo", _echo.BaseAddress.ToString(), ("AllowIps", "10.0.0.0/8, 10.1.2.3/16, office"));
        await gateway.UpsertRouteAsync("fine", "/fine", _echo.BaseAddress.ToString(), ("AllowIps", "127.0.0.1"));
        await gateway.ReloadAsync();

        using var fine = await GetAsync(gateway, "/fine");
        using var typo = await GetAsync(gateway, "/typo");
        var rejected = await gateway.AdminGetAsync("rejected");

        Assert.Equal(HttpStatusCode.OK, fine.StatusCode);
        await Problem.AssertAsync(typo, HttpStatusCode.NotFound, "route_not_found");
        var row = Assert.Single(rejected.GetProperty("rejected").EnumerateArray(), r => r.GetProperty("rowKey").GetString() == "typo");
        Assert.Equal(
            [
                "AllowIps entry '10.1.2.3/16' has bits set after the first 16; write the range's first address: 10.1.0.0/16.",
                "AllowIps entry 'office' is not an IP address or CIDR range (e.g. 203.0.113.7, 10.0.0.0/8, 2001:db8::/32).",
            ],
            row.GetProperty("errors").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public async Task The_admin_surface_is_never_subject_to_route_ip_rules()
    {
        await using var gateway = await StartAsync();
        await gateway.UpsertRouteAsync("everything", "/{**rest}", _echo.BaseAddress.ToString(), ("DenyIps", "0.0.0.0/0,::/0"));
        await gateway.ReloadAsync();

        using var routed = await GetAsync(gateway, "/anything");
        using var healthz = await GetAsync(gateway, "/_gateway/healthz");
        var routes = await gateway.AdminGetAsync("routes");

        await Problem.AssertAsync(routed, HttpStatusCode.Forbidden, "ip_denied");
        Assert.Equal(HttpStatusCode.OK, healthz.StatusCode);
        Assert.Contains("everything", routes.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_ipv6_client_is_matched_by_ipv6_entries_only()
    {
        await using var gateway = await StartAsync(url: "http://[::1]:0");
        var echo = _echo.BaseAddress.ToString();
        await gateway.UpsertRouteAsync("v6-allowed", "/v6/{**rest}", echo, ("AllowIps", "::1"));
        await gateway.UpsertRouteAsync("v6-range", "/v6range/{**rest}", echo, ("AllowIps", "::/64"));
        await gateway.UpsertRouteAsync("v4-only", "/v4/{**rest}", echo, ("AllowIps", "127.0.0.0/8,0.0.0.0/0"));
        await gateway.UpsertRouteAsync("v6-denied", "/v6denied/{**rest}", echo, ("AllowIps", "::/0"), ("DenyIps", "::1/128"));
        await gateway.ReloadAsync();
        Assert.Equal("[::1]", gateway.Client.BaseAddress!.Host);

        using var allowed = await GetAsync(gateway, "/v6/a");
        using var range = await GetAsync(gateway, "/v6range/a");
        using var v4Only = await GetAsync(gateway, "/v4/a");
        using var denied = await GetAsync(gateway, "/v6denied/a");

        Assert.Equal("/v6/a", (await Echo.ReadAsync(allowed)).Path);
        Assert.Equal("/v6range/a", (await Echo.ReadAsync(range)).Path);
        await Problem.AssertAsync(v4Only, HttpStatusCode.Forbidden, "ip_denied");
        await Problem.AssertAsync(denied, HttpStatusCode.Forbidden, "ip_denied");
    }

    [Fact]
    public async Task Behind_a_trusted_proxy_the_rules_see_the_client_it_reports_and_never_what_the_client_wrote()
    {
        await using var gateway = await StartAsync(new Dictionary<string, string?> { ["FuncGateway:ForwardedHeaders:TrustedProxies"] = "127.0.0.1" });
        var echo = _echo.BaseAddress.ToString();
        await gateway.UpsertRouteAsync("partners", "/partners/{**rest}", echo, ("AllowIps", "198.51.100.0/24,2001:db8::/32"));
        await gateway.UpsertRouteAsync("public", "/public/{**rest}", echo, ("DenyIps", "203.0.113.0/24"));
        await gateway.ReloadAsync();

        async Task<HttpStatusCode> StatusAsync(string path, string forwardedFor)
        {
            using var response = await GetAsync(gateway, path, forwardedFor);
            if (response.StatusCode == HttpStatusCode.Forbidden)
            {
                await Problem.AssertAsync(response, HttpStatusCode.Forbidden, "ip_denied");
            }

            return response.StatusCode;
        }

        Assert.Equal(HttpStatusCode.OK, await StatusAsync("/partners/a", "198.51.100.7"));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync("/partners/a", "2001:db8::5"));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync("/partners/a", "[2001:db8::5]:4711"));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync("/partners/a", "::ffff:198.51.100.7"));
        Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync("/partners/a", "203.0.113.9"));

        // The right-most untrusted entry is the client; the left-most is whatever the client claimed.
        Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync("/partners/a", "198.51.100.7, 203.0.113.9"));
        Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync("/public/a", "198.51.100.7, 203.0.113.9"));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync("/public/a", "203.0.113.9, 198.51.100.7"));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync("/public/a", "198.51.100.7, 127.0.0.1"));
    }

    [Fact]
    public async Task Without_a_trusted_proxy_x_forwarded_for_does_not_change_who_the_client_is()
    {
        await using var gateway = await StartAsync();
        await gateway.UpsertRouteAsync("partners", "/partners/{**rest}", _echo.BaseAddress.ToString(), ("AllowIps", "198.51.100.0/24"));
        await gateway.UpsertRouteAsync("public", "/public/{**rest}", _echo.BaseAddress.ToString(), ("DenyIps", "127.0.0.1"));
        await gateway.ReloadAsync();

        using var claimedPartner = await GetAsync(gateway, "/partners/a", "198.51.100.7");
        using var claimedElsewhere = await GetAsync(gateway, "/public/a", "198.51.100.7");

        await Problem.AssertAsync(claimedPartner, HttpStatusCode.Forbidden, "ip_denied");
        await Problem.AssertAsync(claimedElsewhere, HttpStatusCode.Forbidden, "ip_denied");
    }

    [Fact]
    public async Task A_cors_preflight_from_a_refused_client_is_refused_too()
    {
        await using var gateway = await StartAsync();
        await gateway.UpsertRouteAsync("office", "/office/{**rest}", _echo.BaseAddress.ToString(), ("Methods", "PUT"), ("AllowIps", "192.0.2.0/24"));
        await gateway.ReloadAsync();

        using var preflight = new HttpRequestMessage(HttpMethod.Options, "/office/a");
        preflight.Headers.Add("Origin", "https://app.example");
        preflight.Headers.Add("Access-Control-Request-Method", "PUT");
        using var refused = await gateway.Client.SendAsync(preflight);
        using var plain = await gateway.Client.SendAsync(new HttpRequestMessage(HttpMethod.Options, "/office/a"));

        await Problem.AssertAsync(refused, HttpStatusCode.Forbidden, "ip_denied");
        await Problem.AssertAsync(plain, HttpStatusCode.MethodNotAllowed, "method_not_allowed");
        Assert.Equal(0, _echo.RequestCount);
    }
}
