using FuncGateway.Configuration;
using FuncGateway.Core.Tests.Configuration;
using FuncGateway.LoadBalancing;
using FuncGateway.Model;
using FuncGateway.Routing;
using FuncGateway.Versioning;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using static FuncGateway.Core.Tests.Configuration.RegistryRows;

namespace FuncGateway.Core.Tests.Versioning;

/// <summary>
/// Version sets (<c>FuncGateway:Versioning:Sets:&lt;name&gt;</c>): invalid ones stop start-up naming the key; routes
/// that name them are validated, conflict only within one version, and are matched by the version a request names in
/// its path, a header, the query or <c>Accept</c>, or by the default when it names none.
/// </summary>
public sealed class ApiVersioningTests
{
    private const string Upstream1 = "http://10.0.0.1";
    private const string Upstream2 = "http://10.0.0.2";

    [Theory]
    [InlineData("Scheme", "", "Scheme is required: Path, Header, Query or MediaType.")]
    [InlineData("Scheme", "Cookie", "Scheme 'Cookie' is not a scheme")]
    [InlineData("Scheme", "0", "Scheme '0' is not a scheme")]
    [InlineData("Versions", "", "Versions is required")]
    [InlineData("Versions", "1,2,1", "Versions: '1' is listed twice")]
    [InlineData("Versions", "1,two words", "Versions: 'two words' is not a valid version")]
    [InlineData("Default", "3", "Default '3' is not one of the set's Versions (1, 2).")]
    [InlineData("Parameter", "Api Version", "Parameter 'Api Version' is not a header name")]
    [InlineData("PathPrefix", "v", "PathPrefix applies to Scheme Path only.")]
    public void An_invalid_set_is_refused_naming_its_key(string key, string value, string reason)
    {
        var settings = new VersionSetSettings { Scheme = "Header", Versions = "1,2" };
        typeof(VersionSetSettings).GetProperty(key)!.SetValue(settings, value);
        var errors = new List<string>();

        Assert.Null(ApiVersionSetCompiler.Compile("orders", settings, errors));
        var error = Assert.Single(errors);
        Assert.StartsWith("FuncGateway:Versioning:Sets:orders:" + key, error, StringComparison.Ordinal);
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Date", "", "Date is required")]
    [InlineData("Date", "01/02/2026", "Date '01/02/2026' is not an ISO 8601 date")]
    [InlineData("Sunset", "2025-12-31", "Sunset is before")]
    [InlineData("SuccessorLink", "ftp://example.com/v2", "SuccessorLink 'ftp://example.com/v2' is not an absolute http(s) URL or a path")]
    [InlineData("DeprecationLink", "docs/v1", "DeprecationLink 'docs/v1' is not an absolute http(s) URL or a path")]
    [InlineData("Version", "7", "Version '7' is not one of the set's Versions (1, 2).")]
    public void An_invalid_deprecation_is_refused_naming_its_key(string key, string value, string reason)
    {
        var deprecation = new VersionDeprecationSettings { Date = "2026-01-01" };
        typeof(VersionDeprecationSettings).GetProperty(key)!.SetValue(deprecation, value);
        var settings = new VersionSetSettings { Scheme = "Header", Versions = "1,2" };
        settings.Deprecations["1"] = deprecation;
        var errors = new List<string>();

        Assert.Null(ApiVersionSetCompiler.Compile("orders", settings, errors));
        var error = Assert.Single(errors);
        Assert.StartsWith("FuncGateway:Versioning:Sets:orders:Deprecations:1", error, StringComparison.Ordinal);
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Start_up_fails_listing_every_problem_including_unknown_keys_and_bad_names()
    {
        using var services = Build(new()
        {
            ["FuncGateway:Versioning:Sets:orders:Scheme"] = "Header",
            ["FuncGateway:Versioning:Sets:orders:Version"] = "1,2",
            ["FuncGateway:Versioning:Sets:my-api:Scheme"] = "Query",
            ["FuncGateway:Versioning:Sets:my-api:Versions"] = "1",
            ["FuncGateway:Versioning:Sets:items:Scheme"] = "Path",
            ["FuncGateway:Versioning:Sets:items:Versions"] = "1",
            ["FuncGateway:Versioning:Sets:items:Deprecations:1:Sunset"] = "2027-01-01",
        });

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<VersioningSettings>>().Value);

        Assert.Contains("FuncGateway:Versioning:Sets:orders:Version is not a known setting; did you mean Versions?", error.Message, StringComparison.Ordinal);
        Assert.Contains("FuncGateway:Versioning:Sets:orders:Versions is required", error.Message, StringComparison.Ordinal);
        Assert.Contains("'my-api' is not a valid version set name", error.Message, StringComparison.Ordinal);
        Assert.Contains("FuncGateway:Versioning:Sets:items:Deprecations:1:Date is required", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_valid_set_has_each_schemes_default_parameter_and_its_deprecation_headers_built_once()
    {
        using var services = Build(new()
        {
            ["FuncGateway:Versioning:Sets:orders:Scheme"] = "path",
            ["FuncGateway:Versioning:Sets:orders:Versions"] = "1, 2",
            ["FuncGateway:Versioning:Sets:orders:Default"] = "1",
            ["FuncGateway:Versioning:Sets:orders:Deprecations:1:Date"] = "2026-01-01",
            ["FuncGateway:Versioning:Sets:orders:Deprecations:1:Sunset"] = "2026-07-01T12:00:00+02:00",
            ["FuncGateway:Versioning:Sets:orders:Deprecations:1:SuccessorLink"] = "https://api.example.com/v2/",
            ["FuncGateway:Versioning:Sets:orders:Deprecations:1:DeprecationLink"] = "/docs/deprecations/orders-v1",
            ["FuncGateway:Versioning:Sets:azure:Scheme"] = "Query",
            ["FuncGateway:Versioning:Sets:azure:Versions"] = "2024-01-01,2025-06-01",
            ["FuncGateway:Versioning:Sets:azure:Deprecations:first:Version"] = "2024-01-01",
            ["FuncGateway:Versioning:Sets:azure:Deprecations:first:Date"] = "2025-06-01T00:00:00Z",
            ["FuncGateway:Versioning:Sets:h:Scheme"] = "Header",
            ["FuncGateway:Versioning:Sets:h:Versions"] = "1",
            ["FuncGateway:Versioning:Sets:m:Scheme"] = "MediaType",
            ["FuncGateway:Versioning:Sets:m:Versions"] = "1",
        });

        var sets = services.GetRequiredService<ApiVersionSets>();

        Assert.True(sets.TryGet("ORDERS", out var orders));
        Assert.Equal(ApiVersionScheme.Path, orders.Scheme);
        Assert.Equal(("version", "v", "1"), (orders.Parameter, orders.PathPrefix, orders.Default));
        Assert.Equal(["1", "2"], orders.Versions.ToArray());
        var deprecation = orders.Deprecations["1"];
        Assert.Equal("@1767225600", deprecation.Deprecation);
        Assert.Equal("Wed, 01 Jul 2026 10:00:00 GMT", deprecation.Sunset);
        Assert.Equal(["<https://api.example.com/v2/>; rel=\"successor-version\"", "</docs/deprecations/orders-v1>; rel=\"deprecation\""], deprecation.Links.ToArray());
        Assert.False(orders.Deprecations.ContainsKey("2"));

        Assert.True(sets.TryGet("azure", out var azure));
        Assert.Equal("api-version", azure.Parameter);
        Assert.Equal("@1748736000", azure.Deprecations["2024-01-01"].Deprecation);
        Assert.Null(azure.Deprecations["2024-01-01"].Sunset);
        Assert.True(sets.TryGet("h", out var header));
        Assert.Equal(("Api-Version", "Api-Version"), (header.Parameter, header.Vary));
        Assert.True(sets.TryGet("m", out var media));
        Assert.Equal(("v", "Accept"), (media.Parameter, media.Vary));
    }

    [Fact]
    public void An_empty_path_prefix_makes_the_segment_the_bare_version()
    {
        using var services = Build(new()
        {
            ["FuncGateway:Versioning:Sets:dated:Scheme"] = "Path",
            ["FuncGateway:Versioning:Sets:dated:PathPrefix"] = "",
            ["FuncGateway:Versioning:Sets:dated:Versions"] = "2024-01-01",
        });

        Assert.True(services.GetRequiredService<ApiVersionSets>().TryGet("dated", out var set));
        Assert.Equal("2024-01-01", set.ClientForm("2024-01-01"));
    }

    [Fact]
    public void Routes_are_validated_against_their_set_and_conflict_only_within_one_version()
    {
        var snapshot = Snapshot(Sets(("orders", Set("Header", "1,2", "1")), ("items", Set("Path", "1,2", "1"))),
            Route("no-version", "/a", Upstream1, ("VersionSet", "orders")),
            Route("no-set", "/a", Upstream1, ("ApiVersion", "1")),
            Route("unknown-set", "/a", Upstream1, ("VersionSet", "order"), ("ApiVersion", "1")),
            Route("unknown-version", "/a", Upstream1, ("VersionSet", "orders"), ("ApiVersion", "3")),
            Route("bad-version", "/a", Upstream1, ("VersionSet", "orders"), ("ApiVersion", "1 beta")),
            Route("path-no-segment", "/items/{id}", Upstream1, ("VersionSet", "items"), ("ApiVersion", "1")),
            Route("path-constrained", "/{version:alpha}/items", Upstream1, ("VersionSet", "items"), ("ApiVersion", "1")),
            Route("orders-v1", "/orders/{id}", Upstream1, ("VersionSet", "orders"), ("ApiVersion", "1")),
            Route("orders-v2", "/orders/{id}", Upstream2, ("VersionSet", "orders"), ("ApiVersion", "2")),
            Route("orders-v2-again", "/orders/{key}", Upstream2, ("VersionSet", "ORDERS"), ("ApiVersion", "2")),
            Route("unversioned", "/orders/{id}", Upstream1),
            Route("items-v1", "/{version}/items", Upstream1, ("VersionSet", "items"), ("ApiVersion", "1")),
            Route("items-v2", "/{version}/items", Upstream2, ("VersionSet", "items"), ("ApiVersion", "2")),
            Route("plain-items", "/items", Upstream1));

        Assert.Equal(["items-v1", "items-v2", "orders-v1", "orders-v2", "unversioned"], snapshot.Routes.Select(r => r.Definition.Id));
        string Reason(string id) => Assert.Single(Assert.Single(snapshot.Rejected, r => r.RowKey == id).Errors);
        Assert.Equal("VersionSet 'orders' needs ApiVersion: the version of the set the route serves (1, 2).", Reason("no-version"));
        Assert.StartsWith("ApiVersion '1' needs VersionSet", Reason("no-set"), StringComparison.Ordinal);
        Assert.Equal("VersionSet names unknown set 'order'. Configured sets: items, orders.", Reason("unknown-set"));
        Assert.Equal("ApiVersion '3' is not a version of set 'orders' (1, 2).", Reason("unknown-version"));
        Assert.StartsWith("ApiVersion '1 beta' is not a valid version", Reason("bad-version"), StringComparison.Ordinal);
        Assert.StartsWith("Path '/items/{id}' has no '{version}' segment", Reason("path-no-segment"), StringComparison.Ordinal);
        Assert.Contains("takes no constraint", Reason("path-constrained"), StringComparison.Ordinal);
        Assert.StartsWith("Conflicts with route 'orders-v2'", Reason("orders-v2-again"), StringComparison.Ordinal);

        // The default version of a Path set is also reached without its segment: '/items' is then taken.
        Assert.StartsWith("Conflicts with route 'items-v1'", Reason("plain-items"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Header", "", null, "orders-v1")]
    [InlineData("Header", "Api-Version: 2", null, "orders-v2")]
    [InlineData("Header", "api-version:  1 ", null, "orders-v1")]
    [InlineData("Header", "Api-Version: 3", null, "unsupported:3")]
    [InlineData("Header", "Api-Version: 1, 2", null, "unsupported:1, 2")]
    [InlineData("Query", "", "?api-version=2", "orders-v2")]
    [InlineData("Query", "", "?API-VERSION=1", "orders-v1")]
    [InlineData("Query", "", "?x=1", "orders-v1")]
    [InlineData("Query", "", "?api-version=9", "unsupported:9")]
    [InlineData("MediaType", "Accept: application/json;v=2", null, "orders-v2")]
    [InlineData("MediaType", "Accept: text/plain;q=0.5, application/json; v=\"2\"", null, "orders-v2")]
    [InlineData("MediaType", "Accept: application/json", null, "orders-v1")]
    [InlineData("MediaType", "Accept: application/json;v=1, application/xml;v=2", null, "unsupported:1, 2")]
    [InlineData("MediaType", "Accept: application/json;v=3", null, "unsupported:3")]
    public void A_request_is_matched_to_the_version_it_names_or_the_default(string scheme, string header, string? query, string expected)
    {
        var snapshot = Snapshot(Sets(("orders", Set(scheme, "1,2", "1"))),
            Route("orders-v1", "/orders/{id}", Upstream1, ("VersionSet", "orders"), ("ApiVersion", "1")),
            Route("orders-v2", "/orders/{id}", Upstream2, ("VersionSet", "orders"), ("ApiVersion", "2")));
        var request = Request("/orders/7", header, query);

        Assert.Equal(expected, Outcome(snapshot, request));
    }

    [Theory]
    [InlineData("/v1/orders/7", "orders-v1")]
    [InlineData("/V2/orders/7", "orders-v2")]
    [InlineData("/orders/7", "orders-v1")]
    [InlineData("/v3/orders/7", "unsupported:v3")]
    [InlineData("/2/orders/7", "unsupported:2")]
    public void A_path_set_matches_the_segment_and_serves_the_default_without_one(string path, string expected)
    {
        var snapshot = Snapshot(Sets(("orders", Set("Path", "1,2", "1"))),
            Route("orders-v1", "/{version}/orders/{id}", Upstream1, ("VersionSet", "orders"), ("ApiVersion", "1")),
            Route("orders-v2", "/{version}/orders/{id}", Upstream2, ("VersionSet", "orders"), ("ApiVersion", "2")));

        Assert.Equal(expected, Outcome(snapshot, Request(path, "", null)));
    }

    [Fact]
    public void Without_a_default_a_request_that_names_no_version_is_refused_with_the_versions_of_its_path()
    {
        var snapshot = Snapshot(Sets(("orders", Set("Header", "1,2,3", null))),
            Route("orders-v1", "/orders/{id}", Upstream1, ("VersionSet", "orders"), ("ApiVersion", "1")),
            Route("orders-v3", "/orders/{id}", Upstream2, ("VersionSet", "orders"), ("ApiVersion", "3")));

        var match = snapshot.Matcher.Match(Request("/orders/7", "", null));

        Assert.Equal(RouteMatchOutcome.NotFound, match.Outcome);
        var condition = Assert.IsType<ApiVersionCondition>(match.FailedConditions[0]);
        Assert.Null(condition.Requested(Request("/orders/7", "", null)));
        Assert.Equal(["1", "3"], SupportedVersions.Of(condition.Route.Set, match.FailedConditions).ToArray());
    }

    [Fact]
    public void A_wrong_method_on_a_known_version_is_still_405_and_an_unversioned_route_takes_what_no_version_does()
    {
        var snapshot = Snapshot(Sets(("orders", Set("Header", "1,2", null))),
            Route("orders-v1", "/orders/{id}", Upstream1, ("VersionSet", "orders"), ("ApiVersion", "1"), ("Methods", "GET")),
            Route("orders-v2", "/orders/{id}", Upstream2, ("VersionSet", "orders"), ("ApiVersion", "2"), ("Methods", "GET,POST")));
        var withFallback = Snapshot(Sets(("orders", Set("Header", "1,2", null))),
            Route("orders-v1", "/orders/{id}", Upstream1, ("VersionSet", "orders"), ("ApiVersion", "1")),
            Route("fallback", "/{**rest}", Upstream1));

        var post = Request("/orders/7", "Api-Version: 1", null);
        post.Method = "POST";
        var match = snapshot.Matcher.Match(post);
        Assert.Equal(RouteMatchOutcome.MethodNotAllowed, match.Outcome);
        Assert.Equal(["GET", "HEAD"], match.AllowedMethods);
        Assert.Equal("fallback", Outcome(withFallback, Request("/orders/7", "Api-Version: 9", null)));
    }

    [Theory]
    [InlineData("/orders/7", 0, "/v1/orders/7")]
    [InlineData("/api/orders/7", 1, "/api/v1/orders/7")]
    [InlineData("/api", 1, "/api/v1")]
    [InlineData("/api/", 1, "/api/v1/")]
    [InlineData("/", 0, "/v1/")]
    public void The_default_segment_is_put_back_where_the_route_has_it(string path, int index, string expected)
    {
        Assert.Equal(expected, VersioningStep.InsertSegment(new PathString(path), index, "v1").Value);
    }

    [Fact]
    public void The_properties_round_trip_through_the_registry_format()
    {
        var errors = new List<string>();
        var route = RegistryFormat.ParseRoute(Route("a", "/a", Upstream1, ("VersionSet", " orders "), ("ApiVersion", "2024-01-01")), errors);

        Assert.Empty(errors);
        Assert.Equal(("orders", "2024-01-01"), (route!.Get(VersioningProperties.VersionSet), route.Get(VersioningProperties.ApiVersion)));
        var row = RegistryFormat.ToRow(route);
        Assert.Equal(("orders", "2024-01-01"), (row.Properties["VersionSet"], row.Properties["ApiVersion"]));
    }

    private static string Outcome(GatewaySnapshot snapshot, HttpRequest request)
    {
        var match = snapshot.Matcher.Match(request);
        if (match.Outcome == RouteMatchOutcome.Matched)
        {
            return match.Route!.Definition.Id;
        }

        var condition = Assert.IsType<ApiVersionCondition>(Assert.Single(match.FailedConditions, static c => c is ApiVersionCondition c2 && c2.Route.Version == "1"));
        return "unsupported:" + condition.Requested(request);
    }

    private static HttpRequest Request(string path, string header, string? query)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "GET";
        context.Request.Path = path;
        if (query is not null)
        {
            context.Request.QueryString = new QueryString(query);
        }

        if (header.Length > 0)
        {
            var colon = header.IndexOf(':', StringComparison.Ordinal);
            context.Request.Headers[header[..colon]] = header[(colon + 1)..];
        }

        return context.Request;
    }

    private static VersionSetSettings Set(string scheme, string versions, string? defaultVersion) =>
        new() { Scheme = scheme, Versions = versions, Default = defaultVersion };

    private static ApiVersionSets Sets(params (string Name, VersionSetSettings Set)[] sets)
    {
        var settings = new VersioningSettings();
        foreach (var (name, set) in sets)
        {
            settings.Sets[name] = set;
        }

        return new ApiVersionSets(Options.Create(settings));
    }

    private static GatewaySnapshot Snapshot(ApiVersionSets sets, params RegistryRow[] routes) =>
        new SnapshotBuilder(RegistryFormat.Serializer, new LoadBalancingPolicyRegistry([new RoundRobinPolicy()]), TimeSpan.FromSeconds(100),
                [new ApiVersionRouteCompiler(sets)], poolCompilers: TestCompilers.Pools(new InstanceStateRegistry()))
            .Build(new RegistryContent([], routes), 1, DateTimeOffset.UnixEpoch);

    private static ServiceProvider Build(Dictionary<string, string?> settings) => GatewayServices.Build(settings);
}
