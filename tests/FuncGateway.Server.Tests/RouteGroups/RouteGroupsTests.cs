using System.Net;
using FuncGateway.Server.Tests.Infrastructure;
using FuncGateway.Testing;

namespace FuncGateway.Server.Tests.RouteGroups;

/// <summary>Two gateway servers on one registry (one Azurite, one table prefix), each serving its own route groups.</summary>
[Collection("Azurite")]
public sealed class RouteGroupsTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task Two_gateways_with_different_groups_on_one_registry_serve_disjoint_route_sets()
    {
        await using var webApi = await TestUpstream.StartAsync("web-api");
        await using var mobileApi = await TestUpstream.StartAsync("mobile-api");
        var prefix = GatewayHost.NewPrefix();
        await using var web = await GatewayHost.StartAsync(azurite.ConnectionString, new Dictionary<string, string?> { ["FuncGateway:Registry:Groups"] = "web" }, prefix);
        await using var mobile = await GatewayHost.StartAsync(azurite.ConnectionString, new Dictionary<string, string?> { ["FuncGateway:Registry:Groups"] = "mobile" }, prefix);

        // One table: the same path in both groups (each BFF shapes its own), a route of both, one of neither.
        await web.UpsertRouteAsync("web-profile", "/api/profile", webApi.BaseAddress.ToString(), ("Groups", "web"));
        await web.UpsertRouteAsync("mobile-profile", "/api/profile", mobileApi.BaseAddress.ToString(), ("Groups", "mobile"));
        await web.UpsertRouteAsync("web-only", "/web/{**rest}", webApi.BaseAddress.ToString(), ("Groups", "web"));
        await web.UpsertRouteAsync("mobile-only", "/mobile/{**rest}", mobileApi.BaseAddress.ToString(), ("Groups", "mobile"));
        await web.UpsertRouteAsync("both", "/status", webApi.BaseAddress.ToString(), ("Groups", "web,mobile"));
        await web.UpsertRouteAsync("partner", "/partner", webApi.BaseAddress.ToString(), ("Groups", "partner"));
        await web.ReloadAsync();
        await mobile.ReloadAsync();

        Assert.Equal("web-api", (await Echo.ReadAsync(await web.Client.GetAsync("/api/profile"))).Instance);
        Assert.Equal("mobile-api", (await Echo.ReadAsync(await mobile.Client.GetAsync("/api/profile"))).Instance);
        Assert.Equal(HttpStatusCode.OK, (await web.Client.GetAsync("/web/home")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await mobile.Client.GetAsync("/mobile/home")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await web.Client.GetAsync("/status")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await mobile.Client.GetAsync("/status")).StatusCode);

        // The other group's routes are unknown routes here: 404 route_not_found, neither served nor quarantined.
        foreach (var (gateway, path) in new[] { (web, "/mobile/home"), (mobile, "/web/home"), (web, "/partner"), (mobile, "/partner") })
        {
            using var response = await gateway.Client.GetAsync(path);
            await Problem.AssertAsync(response, HttpStatusCode.NotFound, "route_not_found");
        }

        Assert.Empty(await web.RejectedReasonsAsync());
        Assert.Empty(await mobile.RejectedReasonsAsync());
        Assert.Equal(["both", "web-only", "web-profile"], await RouteIdsAsync(web));
        Assert.Equal(["both", "mobile-only", "mobile-profile"], await RouteIdsAsync(mobile));
        Assert.Equal(["web"], (await web.AdminGetAsync("status")).GetProperty("groups").EnumerateArray().Select(g => g.GetString()));
    }

    [Fact]
    public async Task A_groups_setting_that_names_no_group_stops_the_gateway_at_start_instead_of_serving_every_route()
    {
        // Read as empty, ' , ' would make a gateway meant for some groups serve every route of every group.
        var prefix = GatewayHost.NewPrefix();
        var ex = await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString, new Dictionary<string, string?> { ["FuncGateway:Registry:Groups"] = " , " }, prefix);
        });
        Assert.Contains("FuncGateway:Registry:Groups: ' , ' names no group.", ex.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_route_whose_Groups_property_is_spelt_in_another_case_is_rejected_by_every_gateway_not_silently_left_out()
    {
        // 'groups' is not 'Groups' (property names are case-sensitive): the route is in no group, so a gateway with
        // groups would leave it out without a word, and with only such gateways no one would ever report it.
        await using var api = await TestUpstream.StartAsync("api");
        var prefix = GatewayHost.NewPrefix();
        await using var web = await GatewayHost.StartAsync(azurite.ConnectionString, new Dictionary<string, string?> { ["FuncGateway:Registry:Groups"] = "web" }, prefix);
        await using var mobile = await GatewayHost.StartAsync(azurite.ConnectionString, new Dictionary<string, string?> { ["FuncGateway:Registry:Groups"] = "mobile" }, prefix);
        await web.UpsertRouteAsync("home", "/home", api.BaseAddress.ToString(), ("Groups", "web"));
        await web.UpsertRouteAsync("profile", "/profile", api.BaseAddress.ToString(), ("groups", "web"));
        await web.UpsertRouteAsync("orders", "/orders", api.BaseAddress.ToString(), ("GROUPS", "mobile"));
        await web.ReloadAsync();
        await mobile.ReloadAsync();

        Assert.Equal(HttpStatusCode.OK, (await web.Client.GetAsync("/home")).StatusCode);
        foreach (var gateway in new[] { web, mobile })
        {
            var rejected = await gateway.RejectedReasonsAsync();
            Assert.Equal(["orders", "profile"], rejected.Keys.Order(StringComparer.Ordinal));
            Assert.Contains("Unknown property 'groups'; property names are case-sensitive: did you mean 'Groups'?", rejected["profile"], StringComparison.Ordinal);
            Assert.Contains("did you mean 'Groups'?", rejected["orders"], StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_route_under_a_Functions_reserved_prefix_is_served_by_the_Kestrel_server()
    {
        await using var echo = await TestUpstream.StartAsync("echo");
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString);
        await gateway.UpsertRouteAsync("hooks", "/runtime/webhooks/{**rest}", echo.BaseAddress.ToString());
        await gateway.ReloadAsync();

        Assert.Equal(HttpStatusCode.OK, (await gateway.Client.GetAsync("/runtime/webhooks/github")).StatusCode);
        Assert.Empty(await gateway.RejectedReasonsAsync());
    }

    private static async Task<string[]> RouteIdsAsync(GatewayHost gateway) =>
        [.. (await gateway.AdminGetAsync("routes")).GetProperty("routes").EnumerateArray().Select(r => r.GetProperty("id").GetString()!).Order(StringComparer.Ordinal)];
}
