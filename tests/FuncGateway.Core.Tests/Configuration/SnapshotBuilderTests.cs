using FuncGateway.Model;
using FuncGateway.Configuration;
using FuncGateway.LoadBalancing;
using Microsoft.Extensions.DependencyInjection;
using static FuncGateway.Core.Tests.Configuration.RegistryRows;

namespace FuncGateway.Core.Tests.Configuration;

public class SnapshotBuilderTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);

    private static GatewaySnapshot Build(RegistryRow[] upstreams, RegistryRow[] routes) =>
        new SnapshotBuilder(RegistryFormat.Serializer, new LoadBalancingPolicyRegistry([new RoundRobinPolicy()]), TimeSpan.FromSeconds(100), poolCompilers: TestCompilers.Pools(new InstanceStateRegistry()))
            .Build(new RegistryContent(upstreams, routes), version: 1, Now);

    private static readonly RegistryRow Pool = Upstream("orders", """[{"url":"http://10.0.0.4:8080","weight":2},"http://10.0.0.5:8080/base/"]""");

    private static string Errors(GatewaySnapshot snapshot, string rowKey) =>
        string.Join(" | ", Assert.Single(snapshot.Rejected, r => r.RowKey == rowKey).Errors);

    [Fact]
    public void Valid_rows_compile_with_their_pool_and_normalized_instance_urls()
    {
        var snapshot = Build([Pool], [Route("orders", "/api/orders/{id:int}", "orders", ("Methods", "get, Post"), ("TimeoutSeconds", 12.5))]);

        Assert.Empty(snapshot.Rejected);
        var route = Assert.Single(snapshot.Routes);
        Assert.Equal(["GET", "POST"], route.Definition.Methods);
        Assert.Equal(TimeSpan.FromSeconds(12.5), route.Timeout);
        Assert.Same(snapshot.Upstreams["orders"], route.Pool);
        Assert.Equal(["http://10.0.0.4:8080", "http://10.0.0.5:8080/base"], route.Pool.Instances.Select(i => i.Url));
        Assert.Equal(2, route.Pool.Instances[0].Weight);
    }

    [Fact]
    public void Each_route_forwards_with_its_own_timeout_and_routes_with_the_same_one_share_their_settings()
    {
        var snapshot = Build([Pool], [
            Route("a", "/a", "orders", ("TimeoutSeconds", 5.0)),
            Route("b", "/b", "orders", ("TimeoutSeconds", 5.0)),
            Route("c", "/c", "orders", ("TimeoutSeconds", 7.0)),
            Route("d", "/d", "orders", ("TimeoutSeconds", 5.0)),
        ]);

        var routes = snapshot.Routes.ToDictionary(r => r.Definition.Id);
        Assert.Equal(TimeSpan.FromSeconds(5), routes["a"].RequestConfig.ActivityTimeout);
        Assert.Equal(TimeSpan.FromSeconds(5), routes["b"].RequestConfig.ActivityTimeout);
        Assert.Equal(TimeSpan.FromSeconds(7), routes["c"].RequestConfig.ActivityTimeout);
        Assert.Equal(TimeSpan.FromSeconds(5), routes["d"].RequestConfig.ActivityTimeout);
        Assert.Same(routes["a"].RequestConfig, routes["b"].RequestConfig);
        Assert.Same(routes["a"].RequestConfig, routes["d"].RequestConfig);
    }

    [Fact]
    public void A_bad_row_is_rejected_with_its_reason_and_the_others_still_load()
    {
        var snapshot = Build([Pool], [
            Route("good", "/good", "orders"),
            Route("bad", "/bad/{id", "orders"),
        ]);

        Assert.Equal(["good"], snapshot.Routes.Select(r => r.Definition.Id));
        var rejected = Assert.Single(snapshot.Rejected);
        Assert.Equal(("bad", RegistryTable.Routes), (rejected.RowKey, rejected.Table));
        Assert.Contains("/bad/{id", string.Join(" ", rejected.Errors), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Transforms", "[null]", "Transforms[0]: is null")]
    [InlineData("Transforms", "[{\"ResponseHeaderRemove\":\"Server\"},null]", "Transforms[1]: is null")]
    [InlineData("Cache", "{\"ttlSeconds\":60,\"headers\":[null]}", "Cache.headers holds null")]
    [InlineData("Cache", "{\"ttlSeconds\":60,\"caller\":[null]}", "Cache.caller holds null")]
    public void A_null_item_in_a_json_list_rejects_its_row_with_a_reason_and_the_others_still_load(string property, string value, string expected)
    {
        // Each of these threw while the row was read, which failed the whole build: no snapshot at all on a cold
        // start (503 no_configuration for every route), no further change served on a running gateway.
        using var services = GatewayServices.Build([]);
        var snapshot = services.GetRequiredService<SnapshotBuilder>().Build(
            new RegistryContent([Pool], [Route("good", "/good", "orders"), Route("bad", "/bad", "orders", (property, value))]), version: 1, Now);

        Assert.Equal(["good"], snapshot.Routes.Select(r => r.Definition.Id));
        Assert.Contains(expected, Errors(snapshot, "bad"), StringComparison.Ordinal);
    }

    [Fact]
    public void A_row_whose_reading_throws_is_rejected_alone_and_the_others_still_load()
    {
        var snapshot = new SnapshotBuilder(RegistryFormat.Serializer, new LoadBalancingPolicyRegistry([new RoundRobinPolicy()]), TimeSpan.FromSeconds(100),
                featureCompilers: [new ThrowingCompiler("bad")], poolCompilers: TestCompilers.Pools(new InstanceStateRegistry()))
            .Build(new RegistryContent([Pool], [Route("good", "/good", "orders"), Route("bad", "/bad", "orders")]), version: 1, Now);

        Assert.Equal(["good"], snapshot.Routes.Select(r => r.Definition.Id));
        Assert.Contains("could not read this row (InvalidOperationException", Errors(snapshot, "bad"), StringComparison.Ordinal);
    }

    /// <summary>A capability with a bug: it throws on one route.</summary>
    private sealed class ThrowingCompiler(string routeId) : IRouteFeatureCompiler
    {
        public object? Compile(RouteDefinition route, List<string> errors) =>
            route.Id == routeId ? throw new InvalidOperationException("a bug") : null;
    }

    [Theory]
    [InlineData("ftp://10.0.0.4", "only http and https")]
    [InlineData("/relative/path", "neither a known upstream pool nor an absolute http(s) URL")]
    [InlineData("http://user:secret@10.0.0.4", "credentials")]
    [InlineData("http://10.0.0.4/?q=1", "query or fragment")]
    [InlineData("missing-pool", "neither a known upstream pool")]
    public void Route_with_an_unusable_upstream_is_rejected(string upstream, string expected)
    {
        var snapshot = Build([Pool], [Route("r", "/r", upstream)]);

        Assert.Empty(snapshot.Routes);
        var errors = Errors(snapshot, "r");
        Assert.Contains(expected, errors, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", errors, StringComparison.Ordinal);
    }

    [Fact]
    public void Route_on_a_rejected_pool_says_the_pool_was_rejected()
    {
        var snapshot = Build([Upstream("broken", "[\"ftp://x\"]")], [Route("r", "/r", "broken")]);

        Assert.Contains("only http and https", Errors(snapshot, "broken"), StringComparison.Ordinal);
        Assert.Contains("exists but was rejected", Errors(snapshot, "r"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Instances", "not json", "not valid JSON")]
    [InlineData("Instances", "{\"url\":\"http://a\"}", "must be a JSON array")]
    [InlineData("Instances", "[]", "at least one instance")]
    [InlineData("Instances", "[{\"url\":\"http://a\",\"weight\":0}]", "weight 0 is outside")]
    [InlineData("Instances", "[\"http://a\",\"http://A/\"]", "listed twice")]
    [InlineData("LoadBalancing", "Random", "Unknown load-balancing policy 'Random'")]
    public void Bad_upstream_rows_are_rejected_precisely(string property, string value, string expected)
    {
        var row = property == "Instances"
            ? Upstream("p", value)
            : Upstream("p", "[\"http://a\"]", (property, value));

        var snapshot = Build([row], []);

        Assert.Empty(snapshot.Upstreams);
        Assert.Contains(expected, Errors(snapshot, "p"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Headers", "[{\"name\":\"X-V\"", "Headers is not a valid JSON array of conditions")]
    [InlineData("Headers", "[{\"name\":\"X-V\",\"values\":[\"1\"],\"mode\":\"Regex\"}]", "Headers is not a valid JSON array of conditions")]
    [InlineData("Headers", "[{\"name\":\"X-V\",\"mode\":\"Exact\"}]", "needs at least one value")]
    [InlineData("Headers", "[{\"name\":\"X-V\",\"values\":[\"1\"],\"mode\":\"Exists\"}]", "takes no values")]
    [InlineData("Headers", "[{\"name\":\"Bad Name\",\"mode\":\"Exists\"}]", "not a valid header name")]
    [InlineData("Query", "[{\"values\":[\"1\"]}]", "non-empty \"name\"")]
    [InlineData("Methods", "GET,G ET", "'G ET' is not a valid HTTP method")]
    [InlineData("Methods", "[\"GET\",", "Methods is not a valid JSON array")]
    [InlineData("Hosts", "exa mple.com", "Hosts: Host 'exa mple.com'")]
    [InlineData("Hosts", "example.com:99999", "port '99999' is not a number between 1 and 65535")]
    [InlineData("Priority", "high", "Priority must be a 32-bit integer")]
    [InlineData("TimeoutSeconds", "soon", "TimeoutSeconds must be a number")]
    [InlineData("TimeoutSeconds", "0", "outside (0, 3600]")]
    [InlineData("Enabled", "yes", "Enabled must be a boolean")]
    [InlineData("PreserveHost", 1, "PreserveHost must be a boolean")]
    [InlineData("WebSockets", "maybe", "WebSockets must be a boolean")]
    [InlineData("StripPrefix", "/other", "StripPrefix")]
    [InlineData("path", "/x", "Unknown property 'path'; property names are case-sensitive: did you mean 'Path'?")]
    [InlineData("Upsteam", "x", "Unknown property 'Upsteam'")]
    public void Bad_route_properties_are_rejected_with_a_message_naming_the_property(string property, object value, string expected)
    {
        var snapshot = Build([Pool], [Route("r", "/api/{**rest}", "orders", (property, value))]);

        Assert.Empty(snapshot.Routes);
        Assert.Contains(expected, Errors(snapshot, "r"), StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_required_properties_are_each_reported()
    {
        var snapshot = Build([Pool], [Row(RegistryTable.Routes, "default", "r", ("Methods", "GET"))]);

        var errors = Errors(snapshot, "r");
        Assert.Contains("Path is required", errors, StringComparison.Ordinal);
        Assert.Contains("Upstream is required", errors, StringComparison.Ordinal);
    }

    [Fact]
    public void Wrongly_typed_required_property_is_reported_as_a_type_error()
    {
        var snapshot = Build([Pool], [Route("r", "/r", "orders", ("Path", 42))]);

        Assert.Contains("Path must be a string, not an Int32", Errors(snapshot, "r"), StringComparison.Ordinal);
    }

    [Fact]
    public void Typed_values_from_the_table_and_strings_from_the_cli_both_work()
    {
        var snapshot = Build([Pool], [
            Route("typed", "/typed", "orders", ("Priority", 5), ("TimeoutSeconds", 3.0), ("Enabled", true)),
            Route("strings", "/strings", "orders", ("Priority", "5"), ("TimeoutSeconds", "3"), ("Enabled", "True")),
            Route("json-list", "/json", "orders", ("Methods", "[\"get\",\"put\"]")),
        ]);

        Assert.Empty(snapshot.Rejected);
        Assert.All(snapshot.Routes.Where(r => r.Definition.Id != "json-list"), r => Assert.Equal((5, TimeSpan.FromSeconds(3)), (r.Definition.Priority, r.Timeout)));
        Assert.Equal(["GET", "PUT"], snapshot.Routes.Single(r => r.Definition.Id == "json-list").Definition.Methods);
    }

    [Fact]
    public void Routes_may_not_claim_the_admin_prefix()
    {
        var snapshot = Build([Pool], [Route("admin", "/_GATEWAY/routes", "orders"), Route("lookalike", "/_gatewayx", "orders")]);

        Assert.Contains("reserved for the gateway's admin surface", Errors(snapshot, "admin"), StringComparison.Ordinal);
        Assert.Equal(["lookalike"], snapshot.Routes.Select(r => r.Definition.Id));
    }

    [Fact]
    public void Duplicate_ids_across_partitions_keep_the_first_partition_and_reject_the_other()
    {
        var snapshot = Build([Pool], [
            Row(RegistryTable.Routes, "b-team", "orders", ("Path", "/b"), ("Upstream", "orders"), ("Auth", "anonymous")),
            Row(RegistryTable.Routes, "a-team", "orders", ("Path", "/a"), ("Upstream", "orders"), ("Auth", "anonymous")),
        ]);

        Assert.Equal("a-team", Assert.Single(snapshot.Routes).Definition.Group);
        var rejected = Assert.Single(snapshot.Rejected);
        Assert.Equal("b-team", rejected.PartitionKey);
        Assert.Contains("Duplicate route id 'orders': already defined in partition 'a-team'", rejected.Errors[0], StringComparison.Ordinal);
    }

    [Fact]
    public void A_name_given_twice_in_one_partition_says_so_rather_than_naming_another_partition()
    {
        var snapshot = Build([Upstream("p", "[\"http://a\"]"), Upstream("p", "[\"http://b\"]")], []);

        var rejected = Assert.Single(snapshot.Rejected);
        Assert.Equal("Duplicate upstream name 'p': defined twice in partition 'default'.", Assert.Single(rejected.Errors));
        Assert.Equal("http://a", Assert.Single(snapshot.Upstreams["p"].Instances).Url);
    }

    [Fact]
    public void Identical_routes_conflict_and_the_later_id_is_rejected()
    {
        var snapshot = Build([Pool], [
            Route("b", "/api/orders/{x}", "orders", ("Methods", "GET,POST")),
            Route("a", "/API/orders/{id}", "orders", ("Methods", "POST")),
            Route("c", "/api/orders/{id}", "orders", ("Methods", "DELETE")),
            Route("d", "/api/orders/{id}", "orders", ("Methods", "GET"), ("Priority", 1)),
            Route("e", "/api/orders/{id}", "orders", ("Methods", "GET"), ("Headers", "[{\"name\":\"X-V\",\"values\":[\"2\"]}]")),
        ]);

        Assert.Equal(["a", "c", "d", "e"], snapshot.Routes.Select(r => r.Definition.Id));
        Assert.Contains("Conflicts with route 'a'", Errors(snapshot, "b"), StringComparison.Ordinal);
    }

    [Fact]
    public void A_route_without_methods_does_not_conflict_with_one_for_trace_alone()
    {
        // A route without Methods takes every method but TRACE, so only a TRACE route can share its path.
        var snapshot = Build([Pool], [
            Route("a", "/diag/{id}", "orders"),
            Route("b", "/diag/{id}", "orders", ("Methods", "TRACE")),
            Route("c", "/diag/{id}", "orders", ("Methods", "TRACE,GET")),
        ]);

        Assert.Equal(["a", "b"], snapshot.Routes.Select(r => r.Definition.Id));
        Assert.Contains("Conflicts with route 'a'", Errors(snapshot, "c"), StringComparison.Ordinal);
    }

    [Fact]
    public void Disabled_routes_are_kept_but_never_conflict_or_match()
    {
        var snapshot = Build([Pool], [
            Route("a", "/same", "orders"),
            Route("b", "/same", "orders", ("Enabled", false)),
        ]);

        Assert.Empty(snapshot.Rejected);
        Assert.Equal(2, snapshot.Routes.Length);
        Assert.False(snapshot.Routes.Single(r => r.Definition.Id == "b").Definition.Enabled);
    }

    [Fact]
    public void Routes_naming_the_same_inline_url_share_one_pool()
    {
        var snapshot = Build([], [Route("a", "/a", "http://10.0.0.9:81/"), Route("b", "/b", "http://10.0.0.9:81")]);

        Assert.Same(snapshot.Routes[0].Pool, snapshot.Routes[1].Pool);
        Assert.Equal("http://10.0.0.9:81", Assert.Single(snapshot.Routes[0].Pool.Instances).Url);
    }

    [Fact]
    public void Keys_with_characters_azure_forbids_are_rejected()
    {
        var snapshot = Build([Pool], [Row(RegistryTable.Routes, "default", "a/b", ("Path", "/x"), ("Upstream", "orders"))]);

        Assert.Contains("RowKey 'a/b' contains '/'", Errors(snapshot, "a/b"), StringComparison.Ordinal);
    }

    [Fact]
    public void Fingerprint_changes_with_an_etag_and_not_with_row_order()
    {
        var a = Route("a", "/a", "orders");
        var b = Route("b", "/b", "orders");

        var one = SnapshotBuilder.Fingerprint(new RegistryContent([Pool], [a, b]));
        var reordered = SnapshotBuilder.Fingerprint(new RegistryContent([Pool], [b, a]));
        var edited = SnapshotBuilder.Fingerprint(new RegistryContent([Pool], [a, b with { ETag = "W/\"new\"" }]));

        Assert.Equal(one, reordered);
        Assert.NotEqual(one, edited);
    }
}
