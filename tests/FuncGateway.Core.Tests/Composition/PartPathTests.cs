using System.Text.Json.Nodes;
using FuncGateway.Composition;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.WebUtilities;

namespace FuncGateway.Core.Tests.Composition;

/// <summary>A part's path template: what it accepts, and what one request's values make of it.</summary>
public sealed class PartPathTests
{
    private static readonly RouteValueDictionary Route = new() { ["id"] = "7" };

    private static PartPath Parse(string text)
    {
        var errors = new List<string>();
        var path = PartPath.Parse(text, "part", errors);
        Assert.True(path is not null, string.Join(" ", errors));
        return path!;
    }

    private static (string? Target, string? Failure) Render(string text, string query = "", object? body = null)
    {
        var result = new PartResult(200, body, null);
        var target = Parse(text).Render(Route, new QueryCollection(QueryHelpers.ParseQuery(query)), _ => result, out var failure);
        return (target, failure);
    }

    [Theory]
    [InlineData("/users/{id}", "", "/users/7")]
    [InlineData("/s/{query.q}?q={query.q}", "?q=a%20b%26c", "/s/a%20b%26c?q=a%20b%26c")]
    [InlineData("/o?user={parts.u.body.user.id}&n={parts.u.body.n}&ok={parts.u.body.ok}&first={parts.u.body.tags.0}", "", "/o?user=u%2F1&n=3.5&ok=true&first=x")]
    [InlineData("/s?code={parts.u.status}", "", "/s?code=200")]
    public void Values_are_filled_in_and_percent_encoded(string template, string query, string expected)
    {
        var body = JsonNode.Parse("""{"user":{"id":"u/1"},"n":3.5,"ok":true,"tags":["x","y"]}""");

        Assert.Equal((expected, null), Render(template, query, body));
    }

    [Theory]
    [InlineData("/a/{query.missing}", "missing_value")]
    [InlineData("/a/{parts.u.body.none}", "missing_value")]
    [InlineData("/a/{parts.u.body.user}", "missing_value")]
    [InlineData("/a/{parts.u.body.nothing}", "missing_value")]
    [InlineData("/a/{parts.u.body.user.id}", "bad_value")]
    [InlineData("/a/{query.dots}", "bad_value")]
    public void A_value_that_is_absent_or_would_change_the_paths_segments_fails_the_part(string template, string failure)
    {
        var body = JsonNode.Parse("""{"user":{"id":"u/1"},"nothing":null}""");

        Assert.Equal((null, failure), Render(template, "?dots=..", body));
    }

    [Theory]
    [InlineData("users/{id}", "must start with '/'")]
    [InlineData("/a/{id", "unmatched '{'")]
    [InlineData("/a/id}", "unmatched '}'")]
    [InlineData("/a/{parts.u}", "is not a placeholder")]
    [InlineData("/a/{query}", "is not a placeholder")]
    [InlineData("/a b", "may not contain spaces")]
    public void A_bad_template_is_refused_with_its_reason(string template, string reason)
    {
        var errors = new List<string>();

        Assert.Null(PartPath.Parse(template, "part", errors));
        Assert.Contains(reason, string.Join(" ", errors), StringComparison.Ordinal);
    }
}
