using FuncGateway.Model;
using FuncGateway.Routing;
using static FuncGateway.Core.Tests.Routing.RoutingTestData;

namespace FuncGateway.Core.Tests.Routing;

public sealed class RouteMatcherPathTests
{
    [Theory]
    [InlineData("/orders", "literal")]
    [InlineData("/customers", "parameter")]
    [InlineData("/customers/7/notes", "catch-all")]
    public void At_the_root_literal_beats_parameter_beats_catch_all(string path, string expected)
    {
        var matcher = Matcher(
            Route("catch-all", "/{**rest}"),
            Route("parameter", "/{name}"),
            Route("literal", "/orders"));

        AssertMatched(matcher, Request(path), expected);
    }

    [Theory]
    [InlineData("/api/v1/orders/list", "literal")]
    [InlineData("/api/v1/orders/42", "parameter")]
    [InlineData("/api/v1/orders/42/lines", "catch-all")]
    public void Deep_in_the_path_literal_beats_parameter_beats_catch_all(string path, string expected)
    {
        var matcher = Matcher(
            Route("catch-all", "/api/v1/orders/{**rest}"),
            Route("parameter", "/api/v1/orders/{id}"),
            Route("literal", "/api/v1/orders/list"));

        AssertMatched(matcher, Request(path), expected);
    }

    [Fact]
    public void Priority_does_not_let_a_parameter_beat_a_literal()
    {
        var matcher = Matcher(
            Route("parameter", "/orders/{id}", priority: 100),
            Route("literal", "/orders/list", priority: 0));

        AssertMatched(matcher, Request("/orders/list"), "literal");
    }

    [Theory]
    [InlineData("/items/42", "b-int")]
    [InlineData("/items/shoes", "a-slug")]
    public void A_constrained_parameter_is_tried_before_a_bare_one_whatever_the_ids(string path, string expected)
    {
        var matcher = Matcher(Route("a-slug", "/items/{slug}"), Route("b-int", "/items/{id:int}"));

        AssertMatched(matcher, Request(path), expected);
    }

    [Theory]
    [InlineData("/a/b/c", "b-catch-all", "c")]
    [InlineData("/a/b/d", "b-catch-all", "d")]
    public void Literal_branch_is_preferred_even_when_a_parameter_branch_would_also_match(
        string path,
        string expected,
        string rest)
    {
        var matcher = Matcher(Route("x-then-c", "/a/{x}/c"), Route("b-catch-all", "/a/b/{**rest}"));

        var values = AssertMatched(matcher, Request(path), expected);

        Assert.Equal(rest, values["rest"]);
    }

    [Fact]
    public void Parameter_branch_wins_when_the_literal_branch_does_not_exist()
    {
        var matcher = Matcher(Route("x-then-c", "/a/{x}/c"), Route("b-catch-all", "/a/b/{**rest}"));

        var values = AssertMatched(matcher, Request("/a/z/c"), "x-then-c");

        Assert.Equal("z", values["x"]);
    }

    [Fact]
    public void Dead_end_in_the_literal_branch_backtracks_to_the_parameter_branch()
    {
        var matcher = Matcher(Route("x-then-c", "/a/{x}/c"), Route("b-then-e", "/a/b/e"));

        var values = AssertMatched(matcher, Request("/a/b/c"), "x-then-c");
        AssertMatched(matcher, Request("/a/b/e"), "b-then-e");

        Assert.Equal("b", values["x"]);
    }

    [Fact]
    public void Literal_branch_whose_only_route_rejects_the_request_backtracks_to_the_parameter_branch()
    {
        var matcher = Matcher(
            Route("x-then-c", "/a/{x}/c"),
            Route("b-catch-all", "/a/b/{**rest}") with { Methods = ["POST"] });

        AssertMatched(matcher, Request("/a/b/c", method: "POST"), "b-catch-all");
        var values = AssertMatched(matcher, Request("/a/b/c", method: "GET"), "x-then-c");

        Assert.Equal("b", values["x"]);
    }

    [Fact]
    public void Parameter_branch_dead_end_falls_back_to_the_catch_all_of_an_ancestor()
    {
        var matcher = Matcher(Route("detail", "/items/{id}/detail"), Route("items-catch-all", "/items/{**rest}"));

        var values = AssertMatched(matcher, Request("/items/7/history"), "items-catch-all");
        AssertMatched(matcher, Request("/items/7/detail"), "detail");

        Assert.Equal("7/history", values["rest"]);
    }

    [Fact]
    public void Same_shape_routes_are_ordered_by_priority()
    {
        var matcher = Matcher(
            Route("low", "/orders/{id}", priority: 1),
            Route("high", "/orders/{orderId}", priority: 5),
            Route("default", "/orders/{key}"));

        var values = AssertMatched(matcher, Request("/orders/9"), "high");

        Assert.Equal("9", values["orderId"]);
    }

    [Fact]
    public void Same_shape_and_priority_routes_are_ordered_by_condition_count()
    {
        var matcher = Matcher(
            Route("plain", "/orders/{id}"),
            Route("beta", "/orders/{id}") with { Headers = [new RequestCondition("X-Beta", ["on"])] },
            Route("beta-eu", "/orders/{id}") with
            {
                Headers = [new RequestCondition("X-Beta", ["on"])],
                Hosts = ["eu.example.com"],
            });

        AssertMatched(matcher, Request("/orders/1", host: "eu.example.com", headers: ("X-Beta", ["on"])), "beta-eu");
        AssertMatched(matcher, Request("/orders/1", host: "us.example.com", headers: ("X-Beta", ["on"])), "beta");
        AssertMatched(matcher, Request("/orders/1", host: "eu.example.com"), "plain");
    }

    [Fact]
    public void Priority_outranks_condition_count()
    {
        var matcher = Matcher(
            Route("conditional", "/orders/{id}") with { Query = [new RequestCondition("v", [], ConditionMode.Exists)] },
            Route("preferred", "/orders/{id}", priority: 1));

        AssertMatched(matcher, Request("/orders/1", query: "?v=2"), "preferred");
    }

    [Fact]
    public void Same_shape_priority_and_condition_count_are_ordered_by_route_id_ordinal()
    {
        var matcher = Matcher(Route("b", "/orders/{id}"), Route("a", "/orders/{x}"), Route("B", "/orders/{y}"));

        // Ordinal: upper-case letters sort before lower-case ones.
        AssertMatched(matcher, Request("/orders/1"), "B");
    }

    [Fact]
    public void Insertion_order_does_not_change_the_winner()
    {
        RouteMatchSpec[] routes =
        [
            Route("r1", "/orders/{id}"),
            Route("r2", "/orders/{id}", priority: 2),
            Route("r3", "/orders/{id}") with { Hosts = ["gateway.test"] },
        ];

        AssertMatched(Matcher(routes), Request("/orders/1"), "r2");
        AssertMatched(Matcher([.. routes.Reverse()]), Request("/orders/1"), "r2");
    }

    [Fact]
    public void Constraint_mismatch_falls_through_to_the_next_candidate()
    {
        var matcher = Matcher(
            Route("by-id", "/items/{id:int}", priority: 1),
            Route("by-slug", "/items/{slug}"));

        var byId = AssertMatched(matcher, Request("/items/42"), "by-id");
        var bySlug = AssertMatched(matcher, Request("/items/blue-chair"), "by-slug");

        Assert.Equal("42", byId["id"]);
        Assert.Equal("blue-chair", bySlug["slug"]);
        Assert.False(bySlug.ContainsKey("id"));
    }

    [Fact]
    public void Constraint_mismatch_without_another_candidate_is_not_found()
    {
        var matcher = Matcher(Route("by-id", "/items/{id:int:min(10)}"));

        AssertMatched(matcher, Request("/items/10"), "by-id");
        AssertNotFound(matcher, Request("/items/9"));
        AssertNotFound(matcher, Request("/items/ten"));
    }

    [Fact]
    public void Regex_constraint_is_checked_at_match_time()
    {
        var matcher = Matcher(Route("sku", "/sku/{code:regex(^[a-z]{{3}}-\\d+$)}"));

        AssertMatched(matcher, Request("/sku/abc-12"), "sku");
        AssertNotFound(matcher, Request("/sku/abcd-12"));
    }

    [Fact]
    public void A_regex_constraint_that_cannot_decide_in_time_does_not_match_and_costs_at_most_its_time_limit()
    {
        // Any client chooses the segment; ASP.NET Core's own limit (10 s, then an exception) let each such request hold
        // a core for 10 s and end as 500 internal_error.
        var matcher = Matcher(Route("catastrophic", "/r/{x:regex(^(a+)+$)}"), Route("fallback", "/r/{**rest}"));

        var started = System.Diagnostics.Stopwatch.StartNew();
        AssertMatched(matcher, Request("/r/" + new string('a', 40) + "!"), "fallback");
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(2), $"took {started.Elapsed}");
        AssertMatched(matcher, Request("/r/aaaa"), "catastrophic");
    }

    [Fact]
    public void Constraint_on_a_catch_all_sees_the_whole_rest()
    {
        var matcher = Matcher(Route("files", "/files/{**path:file}"), Route("folders", "/files/{**path:nonfile}"));

        AssertMatched(matcher, Request("/files/docs/readme.md"), "files");
        AssertMatched(matcher, Request("/files/docs/archive"), "folders");
    }

    [Fact]
    public void Optional_parameter_may_be_missing_and_then_has_no_value()
    {
        var matcher = Matcher(Route("orders", "/orders/{id?}"));

        var missing = AssertMatched(matcher, Request("/orders"), "orders");
        var present = AssertMatched(matcher, Request("/orders/7"), "orders");

        Assert.False(missing.ContainsKey("id"));
        Assert.Equal("7", present["id"]);
    }

    [Fact]
    public void Missing_optional_parameter_skips_its_constraint()
    {
        var matcher = Matcher(Route("orders", "/orders/{id:int?}"));

        AssertMatched(matcher, Request("/orders"), "orders");
        AssertMatched(matcher, Request("/orders/7"), "orders");
        AssertNotFound(matcher, Request("/orders/seven"));
    }

    [Fact]
    public void Missing_parameter_with_a_default_takes_the_default()
    {
        var matcher = Matcher(Route("list", "/orders/page/{page:int=1}"));

        Assert.Equal("1", AssertMatched(matcher, Request("/orders/page"), "list")["page"]);
        Assert.Equal("3", AssertMatched(matcher, Request("/orders/page/3"), "list")["page"]);
    }

    [Fact]
    public void Optional_parameter_at_the_root()
    {
        var matcher = Matcher(Route("root", "/{page?}"));

        Assert.False(AssertMatched(matcher, Request("/"), "root").ContainsKey("page"));
        Assert.Equal("home", AssertMatched(matcher, Request("/home"), "root")["page"]);
    }

    [Fact]
    public void Route_ending_at_the_path_beats_a_route_whose_optional_segment_is_missing()
    {
        var matcher = Matcher(
            Route("optional", "/orders/{id?}", priority: 10),
            Route("exact", "/orders"),
            Route("catch-all", "/orders/{**rest}", priority: 20));

        AssertMatched(matcher, Request("/orders"), "exact");
        AssertMatched(matcher, Request("/orders/5"), "optional");
    }

    [Fact]
    public void Missing_optional_segment_beats_an_empty_catch_all()
    {
        var matcher = Matcher(Route("catch-all", "/orders/{**rest}", priority: 20), Route("optional", "/orders/{id?}"));

        AssertMatched(matcher, Request("/orders"), "optional");
    }

    [Theory]
    [InlineData("/api/orders/")]
    [InlineData("/api/orders")]
    public void Trailing_slash_is_ignored_in_the_request(string path) =>
        AssertMatched(Matcher(Route("orders", "/api/orders")), Request(path), "orders");

    [Fact]
    public void Trailing_slash_is_ignored_in_the_template() =>
        AssertMatched(Matcher(Route("orders", "/api/orders/")), Request("/api/orders"), "orders");

    [Fact]
    public void Trailing_slash_after_a_parameter_is_not_part_of_its_value() =>
        Assert.Equal("5", AssertMatched(Matcher(Route("order", "/orders/{id}")), Request("/orders/5/"), "order")["id"]);

    [Fact]
    public void Root_template_matches_the_root_path()
    {
        var matcher = Matcher(Route("root", "/"));

        AssertMatched(matcher, Request("/"), "root");
        AssertNotFound(matcher, Request("/anything"));
    }

    [Fact]
    public void Parameter_never_matches_an_empty_segment()
    {
        var matcher = Matcher(Route("pair", "/a/{x}/b"), Route("single", "/a/{x}"));

        AssertNotFound(matcher, Request("/a//b"));
        AssertNotFound(matcher, Request("/a/"));
    }

    [Fact]
    public void Literals_compare_case_insensitively_and_values_keep_their_case()
    {
        var matcher = Matcher(Route("order", "/api/Orders/{id}"));

        var values = AssertMatched(matcher, Request("/API/oRdErS/AbC"), "order");

        Assert.Equal("AbC", values["id"]);
    }

    [Fact]
    public void Parameter_names_are_looked_up_case_insensitively()
    {
        var values = AssertMatched(Matcher(Route("order", "/orders/{orderId}")), Request("/orders/1"), "order");

        Assert.Equal("1", values["ORDERID"]);
    }

    [Fact]
    public void Values_are_the_decoded_path_segments()
    {
        var values = AssertMatched(Matcher(Route("file", "/files/{name}")), Request("/files/annual report?.pdf"), "file");

        Assert.Equal("annual report?.pdf", values["name"]);
    }

    [Theory]
    [InlineData("/api", "")]
    [InlineData("/api/", "")]
    [InlineData("/api/orders", "orders")]
    [InlineData("/api/orders/5/lines", "orders/5/lines")]
    [InlineData("/api/orders/5/", "orders/5/")]
    [InlineData("/API/Orders", "Orders")]
    public void Catch_all_takes_the_rest_of_the_path_and_may_be_empty(string path, string rest)
    {
        var values = AssertMatched(Matcher(Route("api", "/api/{**rest}")), Request(path), "api");

        Assert.Equal(rest, values["rest"]);
    }

    [Fact]
    public void Catch_all_does_not_match_a_longer_literal()
    {
        var matcher = Matcher(Route("api", "/api/{**rest}"));

        AssertNotFound(matcher, Request("/apis/orders"));
        AssertNotFound(matcher, Request("/"));
    }

    [Fact]
    public void Root_catch_all_matches_everything_including_the_root()
    {
        var matcher = Matcher(Route("all", "/{*path}"));

        Assert.Equal(string.Empty, AssertMatched(matcher, Request("/"), "all")["path"]);
        Assert.Equal("a/b/c", AssertMatched(matcher, Request("/a/b/c"), "all")["path"]);
    }

    [Fact]
    public void Empty_catch_all_takes_its_default()
    {
        var matcher = Matcher(Route("site", "/site/{**path=index.html}"));

        Assert.Equal("index.html", AssertMatched(matcher, Request("/site"), "site")["path"]);
        Assert.Equal("about.html", AssertMatched(matcher, Request("/site/about.html"), "site")["path"]);
    }

    [Fact]
    public void Unknown_path_is_not_found()
    {
        var matcher = Matcher(Route("orders", "/orders/{id}"), Route("customers", "/customers"));

        AssertNotFound(matcher, Request("/invoices/1"));
        AssertNotFound(matcher, Request("/orders"));
        AssertNotFound(matcher, Request("/customers/1"));
        AssertNotFound(matcher, Request("/"));
    }

    [Fact]
    public void Empty_route_table_finds_nothing() =>
        AssertNotFound(Matcher(), Request("/orders"));

    [Fact]
    public void Paths_deeper_than_the_stack_buffer_match()
    {
        var twenty = string.Concat(Enumerable.Range(0, 20).Select(static i => $"/s{i}"));
        var forty = string.Concat(Enumerable.Range(0, 40).Select(static i => $"/s{i}"));
        var matcher = Matcher(Route("deep", twenty + "/{id}"), Route("deep-rest", "/s0/{**rest}"));

        Assert.Equal("x", AssertMatched(matcher, Request(twenty + "/x"), "deep")["id"]);
        Assert.Equal(forty[4..], AssertMatched(matcher, Request(forty), "deep-rest")["rest"]);
    }

    [Fact]
    public void Matching_is_safe_from_many_threads()
    {
        var matcher = Matcher(Route("order", "/orders/{id:int}"), Route("rest", "/{**rest}"));

        Parallel.For(0, 2_000, i =>
        {
            var result = matcher.Match(Request($"/orders/{i}"));
            Assert.Equal("order", result.Route);
            Assert.Equal(i.ToString(System.Globalization.CultureInfo.InvariantCulture), result.Values!["id"]);
        });
    }
}
