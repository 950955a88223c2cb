using FuncGateway.Routing;
using static FuncGateway.Core.Tests.Routing.RoutingTestData;

namespace FuncGateway.Core.Tests.Routing;

public sealed class RouteTemplateTests
{
    [Fact]
    public void TryParse_keeps_the_text_and_describes_the_template()
    {
        var template = Template("/api/orders/{id:int}");

        Assert.Equal("/api/orders/{id:int}", template.Text);
        Assert.Equal(["id"], template.ParameterNames);
        Assert.False(template.HasCatchAll);
        Assert.Equal(2, template.LiteralPrefixSegmentCount);
        Assert.Equal("/api/orders/{:int}", template.ShapeKey);
    }

    [Fact]
    public void LiteralPrefixSegmentCount_stops_at_the_first_parameter()
    {
        Assert.Equal(1, Template("/api/{version}/orders").LiteralPrefixSegmentCount);
        Assert.Equal(0, Template("/{tenant}/orders").LiteralPrefixSegmentCount);
        Assert.Equal(0, Template("/").LiteralPrefixSegmentCount);
    }

    [Fact]
    public void Catch_all_is_reported_for_both_spellings()
    {
        var single = Template("/files/{*path}");
        var @double = Template("/files/{**path}");

        Assert.True(single.HasCatchAll);
        Assert.True(@double.HasCatchAll);
        Assert.Equal(["path"], single.ParameterNames);
    }

    [Theory]
    [InlineData("/a/{id}", "/A/{x}")]
    [InlineData("/Orders/{id:int}", "/orders/{orderId:int}")]
    [InlineData("/a/b/", "/a/b")]
    [InlineData("/files/{*path}", "/FILES/{**rest}")]
    [InlineData("/a/{id?}", "/a/{page=1}")]
    public void Templates_matching_the_same_paths_share_a_shape_key(string first, string second) =>
        Assert.Equal(Template(first).ShapeKey, Template(second).ShapeKey);

    [Theory]
    [InlineData("/a/{id}", "/a/{id:int}")]
    [InlineData("/a/{id}", "/a/{id?}")]
    [InlineData("/a/{id}", "/a/{**id}")]
    [InlineData("/a/{id}", "/a/b")]
    [InlineData("/a/{id:int}", "/a/{id:long}")]
    public void Templates_matching_different_paths_have_different_shape_keys(string first, string second) =>
        Assert.NotEqual(Template(first).ShapeKey, Template(second).ShapeKey);

    [Theory]
    [InlineData("/", "/")]
    [InlineData("/API/Orders", "/api/orders")]
    [InlineData("/a/{id:int:min(1)}", "/a/{:int:min(1)}")]
    [InlineData("/a/{id?}", "/a/{?}")]
    [InlineData("/a/{id:int?}", "/a/{:int?}")]
    [InlineData("/a/{page=1}", "/a/{?}")]
    [InlineData("/a/{**rest}", "/a/{**}")]
    [InlineData("/a/{*rest:nonfile}", "/a/{**:nonfile}")]
    public void ShapeKey_normalizes_literals_and_parameters(string template, string expected) =>
        Assert.Equal(expected, Template(template).ShapeKey);

    [Theory]
    [InlineData("int")]
    [InlineData("long")]
    [InlineData("guid")]
    [InlineData("bool")]
    [InlineData("alpha")]
    [InlineData("datetime")]
    [InlineData("decimal")]
    [InlineData("double")]
    [InlineData("float")]
    [InlineData("min(1)")]
    [InlineData("max(9)")]
    [InlineData("range(1,9)")]
    [InlineData("length(3)")]
    [InlineData("length(1,3)")]
    [InlineData("minlength(2)")]
    [InlineData("maxlength(5)")]
    [InlineData("regex(^[a-z]+$)")]
    [InlineData("required")]
    [InlineData("nonfile")]
    [InlineData("file")]
    public void Built_in_constraints_are_accepted(string constraint)
    {
        var accepted = RouteTemplate.TryParse($"/a/{{value:{constraint}}}", out var template, out var error);

        Assert.True(accepted, error);
        Assert.Equal($"/a/{{:{constraint}}}", template!.ShapeKey);
    }

    [Fact]
    public void Regex_constraint_resolves_to_the_real_constraint_not_the_stub()
    {
        var segment = Template("/a/{code:regex(^[a-z]{{3}}$)}").Segments[1];

        // The real matching (ASP.NET Core's RegexRouteConstraint) with the gateway's time limit.
        var constraint = Assert.IsType<BoundedRegexRouteConstraint>(Assert.Single(segment.Constraints).Constraint);
        Assert.Equal(BoundedRegexRouteConstraint.MatchTimeout, constraint.Constraint.MatchTimeout);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    public void Empty_path_is_rejected(string? text) =>
        AssertRejected(text, "Path is empty; it must start with '/', for example '/api/orders'.");

    [Theory]
    [InlineData("api/orders")]
    [InlineData("~/api/orders")]
    [InlineData(" /api")]
    public void Path_without_leading_slash_is_rejected(string text) =>
        AssertRejected(text, $"Path '{text}' must start with '/'.");

    [Theory]
    [InlineData("/a/{b}.{c}", "{b}.{c}")]
    [InlineData("/files/file-{id}", "file-{id}")]
    [InlineData("/api/v{version}/orders", "v{version}")]
    [InlineData("/a/{id:regex(^a/b$)}-x", "{id:regex(^a/b$)}-x")]
    public void Complex_segment_is_rejected_with_the_segment_named(string text, string segment) =>
        AssertRejected(
            text,
            $"Path '{text}': segment '{segment}' mixes literals and parameters; use one parameter per segment.");

    [Fact]
    public void Optional_parameter_before_the_last_segment_is_rejected() =>
        AssertRejected("/a/{id?}/b", "Path '/a/{id?}/b': optional parameter 'id' must be in the last segment.");

    [Fact]
    public void Default_value_before_the_last_segment_is_rejected() =>
        AssertRejected(
            "/a/{id=1}/b",
            "Path '/a/{id=1}/b': parameter 'id' has a default value but is not in the last segment; "
            + "only the last segment can be left out.");

    [Fact]
    public void Catch_all_before_the_last_segment_is_rejected() =>
        AssertRejectedContaining("/{**rest}/x", "Path '/{**rest}/x': ", "catch-all", "last segment");

    [Fact]
    public void Duplicate_parameter_names_are_rejected() =>
        AssertRejectedContaining("/a/{id}/{ID}", "Path '/a/{id}/{ID}': ", "'ID'", "more than one time");

    [Fact]
    public void Consecutive_slashes_are_rejected() =>
        AssertRejectedContaining("/a//b", "Path '/a//b': ", "cannot appear consecutively");

    [Fact]
    public void Whitespace_in_a_parameter_name_is_rejected() =>
        AssertRejected("/a/{ id }", "Path '/a/{ id }': parameter name ' id ' contains whitespace.");

    [Fact]
    public void Unknown_constraint_is_rejected_with_the_known_names() =>
        AssertRejectedContaining(
            "/a/{id:integer}",
            "Path '/a/{id:integer}': constraint 'integer' on parameter 'id' is unknown; known constraints are ",
            "alpha, bool, datetime",
            "regex");

    [Fact]
    public void Constraint_with_bad_arguments_is_rejected() =>
        AssertRejectedContaining("/a/{id:min(x)}", "Path '/a/{id:min(x)}': constraint 'min(x)' on parameter 'id' is invalid: ");

    [Fact]
    public void Constraint_with_impossible_arguments_is_rejected_with_the_reason() =>
        AssertRejectedContaining(
            "/a/{id:range(9,1)}",
            "Path '/a/{id:range(9,1)}': constraint 'range(9,1)' on parameter 'id' is invalid: ",
            "'min'",
            "'max'");

    [Fact]
    public void Known_constraint_with_unbalanced_parentheses_is_called_malformed() =>
        AssertRejected(
            "/a/{id:min(1}",
            "Path '/a/{id:min(1}': constraint 'min(1' on parameter 'id' is malformed; check its arguments and "
            + "parentheses, for example 'min(1)'.");

    [Fact]
    public void Regex_constraint_with_an_invalid_pattern_is_rejected_at_parse_time() =>
        AssertRejectedContaining(
            "/a/{id:regex(a(b)}",
            "Path '/a/{id:regex(a(b)}': constraint 'regex(a(b)' on parameter 'id' is invalid: ",
            "a(b");

    [Fact]
    public void Default_value_that_fails_its_constraint_is_rejected() =>
        AssertRejected(
            "/a/{page:int=first}",
            "Path '/a/{page:int=first}': default value 'first' of parameter 'page' does not satisfy its constraint 'int'.");

    [Fact]
    public void Too_many_segments_is_rejected_not_thrown()
    {
        var text = string.Concat(Enumerable.Range(0, 40).Select(static i => $"/s{i}"));

        AssertRejectedContaining(text, $"Path '{text}': ", "maximum number of allowed segments");
    }

    [Fact]
    public void Query_string_in_a_path_is_rejected() =>
        AssertRejectedContaining("/a?b=1", "Path '/a?b=1': ");

    private static void AssertRejected(string? text, string expectedError)
    {
        Assert.False(RouteTemplate.TryParse(text, out var template, out var error));
        Assert.Null(template);
        Assert.Equal(expectedError, error);
    }

    private static void AssertRejectedContaining(string text, string expectedStart, params string[] fragments)
    {
        Assert.False(RouteTemplate.TryParse(text, out var template, out var error));
        Assert.Null(template);
        Assert.StartsWith(expectedStart, error, StringComparison.Ordinal);
        Assert.EndsWith(".", error, StringComparison.Ordinal);
        foreach (var fragment in fragments)
        {
            Assert.Contains(fragment, error, StringComparison.Ordinal);
        }
    }
}
