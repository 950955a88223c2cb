using FuncGateway.Model;
using FuncGateway.Routing;
using static FuncGateway.Core.Tests.Routing.RoutingTestData;

namespace FuncGateway.Core.Tests.Routing;

public sealed class RouteMatcherConditionTests
{
    [Theory]
    [InlineData("api.example.com", true)]
    [InlineData("API.Example.COM", true)]
    [InlineData("api.example.com:5001", true)]
    [InlineData("www.example.com", false)]
    [InlineData("api.example.com.evil.test", false)]
    public void Exact_host_compares_the_host_case_insensitively_on_any_port(string host, bool matches) =>
        AssertHost(["api.example.com"], Request("/orders", host: host), matches);

    [Theory]
    [InlineData("a.example.com", true)]
    [InlineData("a.b.example.com", true)]
    [InlineData("A.EXAMPLE.COM:8080", true)]
    [InlineData("example.com", false)]
    [InlineData("badexample.com", false)]
    [InlineData("a.example.org", false)]
    public void Wildcard_host_matches_any_subdomain_but_not_the_domain(string host, bool matches) =>
        AssertHost(["*.example.com"], Request("/orders", host: host), matches);

    [Theory]
    [InlineData("api.example.com:8443", "https", true)]
    [InlineData("api.example.com:8444", "https", false)]
    [InlineData("api.example.com", "https", false)]
    public void Host_with_a_port_requires_that_port(string host, string scheme, bool matches) =>
        AssertHost(["api.example.com:8443"], Request("/orders", host: host, scheme: scheme), matches);

    [Theory]
    [InlineData("api.example.com:443", "api.example.com", "https", true)]
    [InlineData("api.example.com:443", "api.example.com", "http", false)]
    [InlineData("api.example.com:80", "api.example.com", "http", true)]
    [InlineData("*.example.com:443", "a.example.com", "https", true)]
    public void Request_without_a_port_uses_its_scheme_default(string pattern, string host, string scheme, bool matches) =>
        AssertHost([pattern], Request("/orders", host: host, scheme: scheme), matches);

    [Theory]
    [InlineData("[::1]:5000", "[::1]:5000", true)]
    [InlineData("[::1]", "[::1]:5000", true)]
    [InlineData("[::1]:5000", "[::1]:6000", false)]
    [InlineData("127.0.0.1", "127.0.0.1:5000", true)]
    public void Ip_address_hosts(string pattern, string host, bool matches) =>
        AssertHost([pattern], Request("/orders", host: host), matches);

    [Theory]
    [InlineData("anything.test", true)]
    [InlineData("anything.test:8080", true)]
    public void Star_matches_any_host(string host, bool matches) =>
        AssertHost(["*"], Request("/orders", host: host), matches);

    [Theory]
    [InlineData("anything.test:8080", true)]
    [InlineData("anything.test:9090", false)]
    public void Star_with_a_port_matches_any_host_on_that_port(string host, bool matches) =>
        AssertHost(["*:8080"], Request("/orders", host: host), matches);

    [Fact]
    public void Any_of_several_hosts_may_match()
    {
        string[] hosts = ["api.example.com", "api.example.org"];

        AssertHost(hosts, Request("/orders", host: "api.example.org"), matches: true);
        AssertHost(hosts, Request("/orders", host: "api.example.net"), matches: false);
    }

    [Fact]
    public void Host_restricted_route_falls_through_to_an_unrestricted_one()
    {
        var matcher = Matcher(
            Route("eu", "/orders/{id}") with { Hosts = ["eu.example.com"] },
            Route("global", "/orders/{id}"));

        AssertMatched(matcher, Request("/orders/1", host: "eu.example.com"), "eu");
        AssertMatched(matcher, Request("/orders/1", host: "us.example.com"), "global");
    }

    [Fact]
    public void Malformed_host_pattern_fails_the_build_naming_the_route()
    {
        var error = Assert.Throws<ArgumentException>(
            () => Matcher(Route("orders", "/orders") with { Hosts = ["https://api.example.com"] }));

        Assert.StartsWith("Route 'orders': Host 'https://api.example.com' must be a host name", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Exact", new[] { "v2" }, new[] { "v2" }, true)]
    [InlineData("Exact", new[] { "v2" }, new[] { "V2" }, true)]
    [InlineData("Exact", new[] { "v2" }, new[] { "v2-beta" }, false)]
    [InlineData("Exact", new[] { "v1", "v2" }, new[] { "v2" }, true)]
    [InlineData("Exact", new[] { "v2" }, new[] { "v1, v2" }, true)]
    [InlineData("Exact", new[] { "v2" }, new[] { "v1", "v2" }, true)]
    [InlineData("Exact", new[] { "v2" }, new[] { "v1,v3" }, false)]
    [InlineData("Prefix", new[] { "Bearer " }, new[] { "bearer abc" }, true)]
    [InlineData("Prefix", new[] { "Bearer " }, new[] { "Basic abc" }, false)]
    [InlineData("Prefix", new[] { "text/" }, new[] { "application/json, text/html" }, true)]
    [InlineData("Contains", new[] { "mobile" }, new[] { "Acme Mobile App" }, true)]
    [InlineData("Contains", new[] { "mobile" }, new[] { "Acme Desktop" }, false)]
    [InlineData("Exists", new string[0], new[] { "" }, true)]
    [InlineData("Exists", new string[0], new[] { "anything" }, true)]
    [InlineData("NotExists", new string[0], new[] { "anything" }, false)]
    public void Header_conditions(string mode, string[] expected, string[] actual, bool matches)
    {
        var condition = new RequestCondition("X-Client", expected, Enum.Parse<ConditionMode>(mode));
        var matcher = Matcher(Route("conditional", "/orders") with { Headers = [condition] });

        var result = matcher.Match(Request("/orders", headers: ("x-client", actual)));

        Assert.Equal(matches ? RouteMatchOutcome.Matched : RouteMatchOutcome.NotFound, result.Outcome);
    }

    [Theory]
    [InlineData("Exact", false)]
    [InlineData("Prefix", false)]
    [InlineData("Contains", false)]
    [InlineData("Exists", false)]
    [InlineData("NotExists", true)]
    public void Header_conditions_when_the_header_is_absent(string mode, bool matches)
    {
        var condition = new RequestCondition("X-Client", ["a"], Enum.Parse<ConditionMode>(mode));
        var matcher = Matcher(Route("conditional", "/orders") with { Headers = [condition] });

        var result = matcher.Match(Request("/orders", headers: ("X-Other", ["a"])));

        Assert.Equal(matches ? RouteMatchOutcome.Matched : RouteMatchOutcome.NotFound, result.Outcome);
    }

    [Theory]
    [InlineData("Exact", "Beta", "Beta", true)]
    [InlineData("Exact", "Beta", "beta", false)]
    [InlineData("Prefix", "Be", "Beta", true)]
    [InlineData("Prefix", "be", "Beta", false)]
    [InlineData("Contains", "et", "Beta", true)]
    [InlineData("Contains", "ET", "Beta", false)]
    public void Case_sensitive_header_conditions(string mode, string expected, string actual, bool matches)
    {
        var condition = new RequestCondition("X-Channel", [expected], Enum.Parse<ConditionMode>(mode), CaseSensitive: true);
        var matcher = Matcher(Route("conditional", "/orders") with { Headers = [condition] });

        var result = matcher.Match(Request("/orders", headers: ("X-Channel", [actual])));

        Assert.Equal(matches ? RouteMatchOutcome.Matched : RouteMatchOutcome.NotFound, result.Outcome);
    }

    [Fact]
    public void All_header_conditions_must_hold()
    {
        var matcher = Matcher(Route("conditional", "/orders") with
        {
            Headers =
            [
                new RequestCondition("X-Tenant", ["acme"]),
                new RequestCondition("X-Debug", [], ConditionMode.NotExists),
            ],
        });

        AssertMatched(matcher, Request("/orders", headers: ("X-Tenant", ["acme"])), "conditional");
        AssertNotFound(matcher, Request("/orders", headers: [("X-Tenant", ["acme"]), ("X-Debug", ["1"])]));
        AssertNotFound(matcher, Request("/orders"));
    }

    [Fact]
    public void Condition_with_no_values_never_holds() =>
        AssertNotFound(
            Matcher(Route("conditional", "/orders") with { Headers = [new RequestCondition("X-Tenant", [])] }),
            Request("/orders", headers: ("X-Tenant", ["acme"])));

    [Theory]
    [InlineData("Exact", new[] { "blue" }, "?color=blue", true)]
    [InlineData("Exact", new[] { "blue" }, "?COLOR=Blue", true)]
    [InlineData("Exact", new[] { "blue" }, "?color=red&color=blue", true)]
    [InlineData("Exact", new[] { "blue" }, "?color=red,blue", false)]
    [InlineData("Exact", new[] { "red", "blue" }, "?color=blue", true)]
    [InlineData("Exact", new[] { "blue" }, "?colour=blue", false)]
    [InlineData("Exact", new[] { "dark blue" }, "?color=dark%20blue", true)]
    [InlineData("Prefix", new[] { "bl" }, "?color=blue", true)]
    [InlineData("Prefix", new[] { "bl" }, "?color=red", false)]
    [InlineData("Contains", new[] { "lu" }, "?color=blue", true)]
    [InlineData("Contains", new[] { "lu" }, "?color=red", false)]
    [InlineData("Exists", new string[0], "?color", true)]
    [InlineData("Exists", new string[0], "?color=", true)]
    [InlineData("Exists", new string[0], "?other=1", false)]
    [InlineData("NotExists", new string[0], "?other=1", true)]
    [InlineData("NotExists", new string[0], "?color=blue", false)]
    public void Query_conditions(string mode, string[] expected, string query, bool matches)
    {
        var condition = new RequestCondition("color", expected, Enum.Parse<ConditionMode>(mode));
        var matcher = Matcher(Route("conditional", "/orders") with { Query = [condition] });

        var result = matcher.Match(Request("/orders", query: query));

        Assert.Equal(matches ? RouteMatchOutcome.Matched : RouteMatchOutcome.NotFound, result.Outcome);
    }

    [Fact]
    public void Case_sensitive_query_condition()
    {
        var condition = new RequestCondition("mode", ["Preview"], ConditionMode.Exact, CaseSensitive: true);
        var matcher = Matcher(Route("conditional", "/orders") with { Query = [condition] });

        AssertMatched(matcher, Request("/orders", query: "?mode=Preview"), "conditional");
        AssertNotFound(matcher, Request("/orders", query: "?mode=preview"));
    }

    [Fact]
    public void Query_condition_falls_through_to_the_next_candidate()
    {
        var matcher = Matcher(
            Route("preview", "/orders") with { Query = [new RequestCondition("preview", ["true"])] },
            Route("stable", "/orders"));

        AssertMatched(matcher, Request("/orders", query: "?preview=true"), "preview");
        AssertMatched(matcher, Request("/orders", query: "?preview=false"), "stable");
    }

    [Fact]
    public void Method_is_compared_case_insensitively()
    {
        var matcher = Matcher(Route("orders", "/orders") with { Methods = ["GET"] });

        AssertMatched(matcher, Request("/orders", method: "get"), "orders");
    }

    [Fact]
    public void Route_without_methods_accepts_any_method() =>
        AssertMatched(Matcher(Route("orders", "/orders")), Request("/orders", method: "PROPFIND"), "orders");

    [Fact]
    public void Route_without_methods_does_not_take_trace_and_one_that_lists_it_does()
    {
        var result = Matcher(Route("orders", "/orders")).Match(Request("/orders", method: "trace"));

        Assert.Equal(RouteMatchOutcome.MethodNotAllowed, result.Outcome);
        Assert.Equal(["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"], result.AllowedMethods);

        // A TRACE route at a lower precedence than the route without methods still gets TRACE.
        AssertMatched(
            Matcher(Route("orders", "/orders/{id}"), Route("diag", "/orders/{**rest}") with { Methods = ["TRACE"] }),
            Request("/orders/7", method: "TRACE"),
            "diag");
    }

    [Fact]
    public void Head_goes_to_a_route_that_lists_GET_unless_a_route_of_the_same_path_lists_HEAD_itself()
    {
        AssertMatched(Matcher(Route("read", "/orders") with { Methods = ["GET"] }), Request("/orders", method: "HEAD"), "read");

        // The route that lists HEAD wins though the GET route is tried first.
        AssertMatched(
            Matcher(Route("a-get", "/orders") with { Methods = ["GET"], Priority = 5 }, Route("b-head", "/orders") with { Methods = ["HEAD"] }),
            Request("/orders", method: "HEAD"),
            "b-head");

        // HEAD goes where GET goes: the literal route, not the catch-all that takes every method.
        AssertMatched(
            Matcher(Route("items", "/orders/items") with { Methods = ["GET"] }, Route("rest", "/orders/{**rest}")),
            Request("/orders/items", method: "HEAD"),
            "items");

        var result = Matcher(Route("write", "/orders") with { Methods = ["POST"] }).Match(Request("/orders", method: "HEAD"));
        Assert.Equal(RouteMatchOutcome.MethodNotAllowed, result.Outcome);
        Assert.Equal(["POST"], result.AllowedMethods);
    }

    [Fact]
    public void Method_mismatch_is_405_with_the_sorted_union_of_allowed_methods()
    {
        var matcher = Matcher(
            Route("write", "/orders") with { Methods = ["PUT", "POST"] },
            Route("read", "/orders") with { Methods = ["GET", "HEAD"] },
            Route("read-again", "/orders") with { Methods = ["GET"] },
            Route("other-host", "/orders") with { Methods = ["DELETE"], Hosts = ["admin.example.com"] },
            Route("other-path", "/customers") with { Methods = ["PATCH"] });

        var result = matcher.Match(Request("/orders", method: "PATCH"));

        Assert.Equal(RouteMatchOutcome.MethodNotAllowed, result.Outcome);
        Assert.Null(result.Route);
        Assert.Null(result.Values);
        Assert.Equal(["GET", "HEAD", "POST", "PUT"], result.AllowedMethods);
    }

    [Fact]
    public void Allowed_methods_are_reported_upper_case()
    {
        var result = Matcher(Route("orders", "/orders") with { Methods = ["get", "Post"] })
            .Match(Request("/orders", method: "DELETE"));

        Assert.Equal(["GET", "HEAD", "POST"], result.AllowedMethods);
    }

    [Fact]
    public void Allowed_methods_include_routes_from_backtracked_branches()
    {
        var matcher = Matcher(
            Route("literal", "/orders/list") with { Methods = ["GET"] },
            Route("parameter", "/orders/{id}") with { Methods = ["DELETE"] });

        var result = matcher.Match(Request("/orders/list", method: "POST"));

        Assert.Equal(RouteMatchOutcome.MethodNotAllowed, result.Outcome);
        Assert.Equal(["DELETE", "GET", "HEAD"], result.AllowedMethods);
    }

    [Fact]
    public void Method_mismatch_on_one_route_does_not_hide_another_that_matches()
    {
        var matcher = Matcher(
            Route("literal", "/orders/list") with { Methods = ["POST"] },
            Route("parameter", "/orders/{id}"));

        AssertMatched(matcher, Request("/orders/list", method: "GET"), "parameter");
    }

    [Fact]
    public void Method_mismatch_on_a_host_restricted_route_for_another_host_is_404()
    {
        var matcher = Matcher(Route("orders", "/orders") with { Methods = ["GET"], Hosts = ["api.example.com"] });

        Assert.Equal(RouteMatchOutcome.MethodNotAllowed, matcher.Match(Request("/orders", method: "POST", host: "api.example.com")).Outcome);
        AssertNotFound(matcher, Request("/orders", method: "POST", host: "www.example.com"));
    }

    [Fact]
    public void Method_mismatch_on_a_route_whose_header_condition_fails_is_404()
    {
        var matcher = Matcher(Route("orders", "/orders") with
        {
            Methods = ["GET"],
            Headers = [new RequestCondition("X-Tenant", ["acme"])],
        });

        Assert.Equal(
            RouteMatchOutcome.MethodNotAllowed,
            matcher.Match(Request("/orders", method: "POST", headers: ("X-Tenant", ["acme"]))).Outcome);
        AssertNotFound(matcher, Request("/orders", method: "POST"));
    }

    [Fact]
    public void Method_mismatch_on_a_route_whose_constraint_fails_is_404()
    {
        var matcher = Matcher(Route("order", "/orders/{id:int}") with { Methods = ["GET"] });

        AssertNotFound(matcher, Request("/orders/abc", method: "POST"));
    }

    private static void AssertHost(string[] hosts, Microsoft.AspNetCore.Http.HttpRequest request, bool matches)
    {
        var result = Matcher(Route("hosted", "/orders") with { Hosts = hosts }).Match(request);

        Assert.Equal(matches ? RouteMatchOutcome.Matched : RouteMatchOutcome.NotFound, result.Outcome);
    }
}
