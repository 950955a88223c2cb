using FuncGateway.Configuration;
using FuncGateway.Core.Tests.Configuration;
using FuncGateway.LoadBalancing;
using FuncGateway.Model;
using FuncGateway.Routing;
using FuncGateway.RouteGroups;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using static FuncGateway.Core.Tests.Configuration.RegistryRows;

namespace FuncGateway.Core.Tests.RouteGroups;

public sealed class RouteGroupsTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);

    private static GatewaySnapshot Build(RegistryRow[] routes, string[]? groups = null, ReservedPathHandling reserved = ReservedPathHandling.Warn) =>
        new SnapshotBuilder(RegistryFormat.Serializer, new LoadBalancingPolicyRegistry([new RoundRobinPolicy()]), TimeSpan.FromSeconds(100),
                poolCompilers: TestCompilers.Pools(new InstanceStateRegistry()),
                routeFilters: groups is null ? null : [new RouteGroupFilter(groups)],
                functionsReservedPaths: reserved)
            .Build(new RegistryContent([], routes), version: 1, Now);

    private static readonly RegistryRow[] Registry =
    [
        Route("web-profile", "/api/profile", "http://10.0.0.1", ("Groups", "web")),
        Route("mobile-profile", "/api/profile", "http://10.0.0.2", ("Groups", "Mobile")),
        Route("shared-health", "/health", "http://10.0.0.3", ("Groups", """["web","mobile"]""")),
        Route("ungrouped", "/legacy", "http://10.0.0.4"),
    ];

    [Fact]
    public void A_gateway_serves_only_the_routes_of_its_groups_and_the_others_are_neither_served_nor_rejected()
    {
        var web = Build(Registry, ["web"]);
        Assert.Empty(web.Rejected);
        Assert.Equal(["shared-health", "web-profile"], web.Routes.Select(r => r.Definition.Id));

        // Group names compare case-insensitively: "Mobile" on the row, "mobile" in the setting.
        var mobile = Build(Registry, ["mobile"]);
        Assert.Empty(mobile.Rejected);
        Assert.Equal(["mobile-profile", "shared-health"], mobile.Routes.Select(r => r.Definition.Id));

        var both = Build(Registry, ["web", "partner", "mobile"]);
        Assert.Contains(both.Routes, r => r.Definition.Id == "shared-health");
        Assert.DoesNotContain(both.Routes, r => r.Definition.Id == "ungrouped");
    }

    [Fact]
    public void A_gateway_without_groups_serves_every_route_so_two_groups_with_the_same_path_conflict_there()
    {
        var all = Build(Registry);

        Assert.Equal(["mobile-profile", "shared-health", "ungrouped"], all.Routes.Select(r => r.Definition.Id));
        var conflict = Assert.Single(all.Rejected);
        Assert.Equal("web-profile", conflict.RowKey);
        Assert.Contains("Conflicts with route 'mobile-profile'", conflict.Errors[0], StringComparison.Ordinal);
    }

    [Fact]
    public void Route_ids_stay_unique_across_groups_and_partitions()
    {
        var rows = new[]
        {
            Row(RegistryTable.Routes, "a-team", "profile", ("Path", "/m/profile"), ("Upstream", "http://10.0.0.2"), ("Auth", "anonymous"), ("Groups", "mobile")),
            Row(RegistryTable.Routes, "b-team", "profile", ("Path", "/w/profile"), ("Upstream", "http://10.0.0.1"), ("Auth", "anonymous"), ("Groups", "web")),
        };

        var web = Build(rows, ["web"]);

        Assert.Empty(web.Routes);
        var rejected = Assert.Single(web.Rejected);
        Assert.Equal("b-team", rejected.PartitionKey);
        Assert.Contains("already defined in partition 'a-team'", rejected.Errors[0], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("web-app", "Groups: 'web-app' is not a valid group name")]
    [InlineData("web,,mobile.v2", "Groups: 'mobile.v2' is not a valid group name")]
    public void A_bad_group_name_rejects_the_row_on_every_gateway(string groups, string expected)
    {
        var row = Route("bad", "/bad", "http://10.0.0.1", ("Groups", groups));

        foreach (var snapshot in new[] { Build([row], ["web"]), Build([row], ["other"]), Build([row]) })
        {
            var rejected = Assert.Single(snapshot.Rejected);
            Assert.Contains(expected, string.Join(" ", rejected.Errors), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Groups_round_trip_through_the_entity_format_without_repeats()
    {
        var route = RegistryFormat.ParseRoute(Route("r", "/r", "http://10.0.0.1", ("Groups", " web , mobile ,WEB")), [])!;

        Assert.Equal(["web", "mobile"], route.Get(RouteGroupsProperties.Groups));
        Assert.Equal("web,mobile", RegistryFormat.ToRow(route).Properties["Groups"]);
    }

    [Theory]
    [InlineData("FuncGateway:Registry:Groups", "web, mobile", null)]
    [InlineData("FuncGateway:Registry:Groups", "web-bff", "FuncGateway:Registry:Groups: 'web-bff' is not a valid group name")]
    [InlineData("FuncGateway:Registry:Groups", ",", "FuncGateway:Registry:Groups: ',' names no group.")]
    public void The_gateway_setting_is_checked_at_start_up(string key, string value, string? error)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["FuncGateway:Storage:ConnectionString"] = "UseDevelopmentStorage=true",
            [key] = value,
        }).Build();
        using var services = new ServiceCollection().AddFuncGateway(configuration).BuildServiceProvider();

        if (error is null)
        {
            Assert.Equal("web, mobile", services.GetRequiredService<IOptions<GatewayOptions>>().Value.Registry.Groups);
            Assert.IsType<RouteGroupFilter>(services.GetRequiredService<IRouteFilter>());
        }
        else
        {
            var ex = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<GatewayOptions>>().Value);
            Assert.Contains(error, ex.Message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("/admin", "/admin")]
    [InlineData("/Admin/functions/{name}", "/admin")]
    [InlineData("/runtime/webhooks/{*rest}", "/runtime/webhooks")]
    [InlineData("runtime/webhooks", "/runtime/webhooks")]
    [InlineData("/administration", null)]
    [InlineData("/api/admin", null)]
    [InlineData("/runtime/{*rest}", null)]
    [InlineData("/{**rest}", null)]
    public void Functions_reserved_prefixes_are_whole_leading_segments(string path, string? prefix) =>
        Assert.Equal(prefix, FunctionsReservedPaths.PrefixOf(path));

    [Fact]
    public void A_route_under_a_Functions_reserved_prefix_is_served_with_a_warning_on_Kestrel_and_rejected_in_the_Functions_app()
    {
        RegistryRow[] rows = [Route("hooks", "/runtime/webhooks/{*rest}", "http://10.0.0.1"), Route("ok", "/api", "http://10.0.0.1")];

        var server = Build(rows);
        Assert.Empty(server.Rejected);
        Assert.Equal(2, server.Routes.Length);
        var warning = Assert.Single(server.Warnings);
        Assert.Equal("hooks", warning.RowKey);
        Assert.Contains("under /runtime/webhooks/, which the Azure Functions host keeps for itself", warning.Errors[0], StringComparison.Ordinal);

        var functions = Build(rows, reserved: ReservedPathHandling.Reject);
        Assert.Empty(functions.Warnings);
        Assert.Equal(["ok"], functions.Routes.Select(r => r.Definition.Id));
        Assert.Equal(warning.Errors, Assert.Single(functions.Rejected).Errors);
    }
}
