using FuncGateway.Core.Tests.Configuration;
using FuncGateway.Model;
using FuncGateway.Configuration;
using FuncGateway.LoadBalancing;
using FuncGateway.RateLimiting;
using Microsoft.Extensions.Time.Testing;
using static FuncGateway.Core.Tests.Configuration.RegistryRows;

namespace FuncGateway.Core.Tests.RateLimiting;

/// <summary>The route property <c>RateLimit</c>: parsed, written back, and resolved against the configured policies when a snapshot is built.</summary>
public sealed class RouteRateLimitTests
{
    private static readonly RateLimiterRegistry Registry = new(
        Microsoft.Extensions.Options.Options.Create(TestLimiters.Options(o =>
        {
            o.Policies["per_ip"] = new RateLimitPolicyOptions { Limit = 10 };
            o.Policies["Global"] = new RateLimitPolicyOptions { Limit = 1000, PartitionBy = "Global" };
        })),
        TestLimiters.Runtime(new InMemoryRateLimitStore(), new FakeTimeProvider(TestLimiters.Start)));

    private static GatewaySnapshot Build(params RegistryRow[] routes) =>
        new SnapshotBuilder(RegistryFormat.Serializer, new LoadBalancingPolicyRegistry([new RoundRobinPolicy()]), TimeSpan.FromSeconds(100), [new RateLimitRouteCompiler(Registry)], poolCompilers: TestCompilers.Pools(new InstanceStateRegistry()))
            .Build(new RegistryContent([], routes), 1, TestLimiters.Start);

    [Fact]
    public void A_route_names_its_policies_as_a_comma_list_or_a_json_array_in_order()
    {
        var snapshot = Build(
            Route("a", "/a", "http://10.0.0.4", ("RateLimit", "per_ip, global")),
            Route("b", "/b", "http://10.0.0.4", ("RateLimit", """["global"]""")),
            Route("c", "/c", "http://10.0.0.4"));

        Assert.Empty(snapshot.Rejected);
        var a = snapshot.Routes.Single(r => r.Definition.Id == "a").GetFeature<RouteRateLimits>()!;
        Assert.Equal(["per_ip", "Global"], a.Policies.Select(p => p.Policy.Name));
        Assert.Equal("\"per_ip\";q=10;w=60, \"Global\";q=1000;w=60", a.PolicyHeader);
        Assert.Equal(["Global"], snapshot.Routes.Single(r => r.Definition.Id == "b").GetFeature<RouteRateLimits>()!.Policies.Select(p => p.Policy.Name));
        Assert.Null(snapshot.Routes.Single(r => r.Definition.Id == "c").GetFeature<RouteRateLimits>());
    }

    [Fact]
    public void An_unknown_policy_rejects_the_row_and_names_the_configured_ones()
    {
        var snapshot = Build(
            // The name before policy names took only letters, digits and '_': a route still naming it is rejected
            // and told the configured name.
            Route("typo", "/typo", "http://10.0.0.4", ("RateLimit", "per-ip")),
            Route("twice", "/twice", "http://10.0.0.4", ("RateLimit", "per_ip,PER_IP")),
            Route("fine", "/fine", "http://10.0.0.4", ("RateLimit", "per_ip")));

        Assert.Equal(["fine"], snapshot.Routes.Select(r => r.Definition.Id));
        Assert.Equal("RateLimit names unknown policy 'per-ip'. Configured policies: Global, per_ip.", Assert.Single(Assert.Single(snapshot.Rejected, r => r.RowKey == "typo").Errors));
        Assert.Contains("twice", Assert.Single(Assert.Single(snapshot.Rejected, r => r.RowKey == "twice").Errors), StringComparison.Ordinal);
    }

    [Fact]
    public void The_property_round_trips_through_the_registry_format()
    {
        var errors = new List<string>();
        var route = RegistryFormat.ParseRoute(Route("a", "/a", "http://10.0.0.4", ("RateLimit", """["per_ip","global"]""")), errors);

        Assert.Empty(errors);
        Assert.Equal(["per_ip", "global"], route!.Get(RateLimitProperties.RateLimit));
        var row = RegistryFormat.ToRow(route);
        Assert.Equal("per_ip,global", row.Properties["RateLimit"]);
        Assert.False(RegistryFormat.ToRow(route.With(RateLimitProperties.RateLimit, [])).Properties.ContainsKey("RateLimit"));
    }

    [Fact]
    public void A_wrongly_typed_property_is_a_row_error()
    {
        var errors = new List<string>();

        RegistryFormat.ParseRoute(Route("a", "/a", "http://10.0.0.4", ("RateLimit", 5)), errors);

        Assert.Equal("RateLimit must be a string, not an Int32.", Assert.Single(errors));
    }
}
