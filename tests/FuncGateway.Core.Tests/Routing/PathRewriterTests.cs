using FuncGateway.Routing;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Yarp.ReverseProxy.Forwarder;
using static FuncGateway.Core.Tests.Routing.RoutingTestData;

namespace FuncGateway.Core.Tests.Routing;

public sealed class PathRewriterTests
{
    [Theory]
    [InlineData(null, null)]
    [InlineData("", "")]
    [InlineData(" ", null)]
    public void Neither_setting_forwards_the_path_unchanged(string? upstreamPath, string? stripPrefix)
    {
        var rewriter = Create("/api/orders/{id}", upstreamPath, stripPrefix);

        Assert.Same(PathRewriter.Identity, rewriter);
        Assert.Equal("/api/orders/5", rewriter.Rewrite(new PathString("/api/orders/5"), []).Value);
    }

    [Fact]
    public void Identity_keeps_the_request_path_as_sent() =>
        Assert.Equal("/API/Orders/5/", PathRewriter.Identity.Rewrite(new PathString("/API/Orders/5/"), []).Value);

    [Fact]
    public void Both_settings_are_rejected() =>
        AssertRejected("/api/orders/{id}", "/v2/orders/{id}", "/api", "Set UpstreamPath or StripPrefix, not both.");

    [Theory]
    [InlineData("/api/orders/{id}", "/api", "/api/orders/5", "/orders/5")]
    [InlineData("/api/orders/{id}", "/api/orders", "/api/orders/5", "/5")]
    [InlineData("/api/orders/{id}", "/API/Orders", "/api/orders/5", "/5")]
    [InlineData("/api/orders/{id}", "/api/", "/api/orders/5", "/orders/5")]
    [InlineData("/api/orders/{id}", "/api", "/API/orders/5", "/orders/5")]
    [InlineData("/api/orders/{id}", "/api", "/api/orders/5/", "/orders/5/")]
    [InlineData("/api/{**rest}", "/api", "/api", "/")]
    [InlineData("/api/{**rest}", "/api", "/api/", "/")]
    [InlineData("/api/health", "/api/health", "/api/health", "/")]
    [InlineData("/api/{**rest}", "/api", "/api/files/a b.txt", "/files/a b.txt")]
    public void StripPrefix_removes_the_leading_segments_and_keeps_the_rest(
        string template,
        string stripPrefix,
        string requestPath,
        string expected)
    {
        var rewriter = Create(template, upstreamPath: null, stripPrefix);

        Assert.Equal(expected, rewriter.Rewrite(new PathString(requestPath), []).Value);
    }

    [Fact]
    public void StripPrefix_of_the_root_strips_nothing() =>
        Assert.Same(PathRewriter.Identity, Create("/api/{id}", upstreamPath: null, stripPrefix: "/"));

    [Fact]
    public void StripPrefix_must_start_with_a_slash() =>
        AssertRejected("/api/orders", null, "api", "StripPrefix 'api' must start with '/'.");

    [Fact]
    public void StripPrefix_must_be_literal() =>
        AssertRejected(
            "/api/{version}/orders",
            null,
            "/api/{version}",
            "StripPrefix '/api/{version}' must be literal; it cannot contain parameters.");

    [Theory]
    [InlineData("/v2")]
    [InlineData("/api/v2")]
    [InlineData("/ap")]
    [InlineData("/api/v1/orders/{id}/x")]
    [InlineData("/api/v1/orders/x")]
    [InlineData("/api//v1")]
    public void StripPrefix_must_match_the_templates_leading_literal_segments(string stripPrefix) =>
        AssertRejected(
            "/api/v1/orders/{id}",
            null,
            stripPrefix,
            stripPrefix.Contains('{', StringComparison.Ordinal)
                ? $"StripPrefix '{stripPrefix}' must be literal; it cannot contain parameters."
                : $"StripPrefix '{stripPrefix}' does not match the leading literal segments of Path "
                    + "'/api/v1/orders/{id}'; use one of '/api', '/api/v1', '/api/v1/orders'.");

    [Fact]
    public void StripPrefix_cannot_apply_to_a_template_starting_with_a_parameter() =>
        AssertRejected(
            "/{tenant}/orders",
            null,
            "/acme",
            "StripPrefix '/acme' cannot apply: Path '/{tenant}/orders' does not start with a literal segment.");

    [Theory]
    [InlineData("/orders/{id}", "/v2/orders/{id}", "/orders/5", "/v2/orders/5")]
    [InlineData("/orders/{id}", "/v2/orders/{ID}", "/orders/5", "/v2/orders/5")]
    [InlineData("/items/{id}", "/items/{id}/detail", "/items/9", "/items/9/detail")]
    [InlineData("/api/{**rest}", "/{**rest}", "/api/a/b/c", "/a/b/c")]
    [InlineData("/api/{**rest}", "/{**rest}", "/api/a/b/", "/a/b/")]
    [InlineData("/api/{**rest}", "/{**rest}", "/api", "/")]
    [InlineData("/api/{**rest}", "/v2/{*rest}", "/api", "/v2")]
    [InlineData("/api/{**rest}", "/v2/{**rest}", "/api/x/y", "/v2/x/y")]
    [InlineData("/orders/{id?}", "/v2/orders/{id}", "/orders", "/v2/orders")]
    [InlineData("/orders/{id?}", "/v2/orders/{id}", "/orders/7", "/v2/orders/7")]
    [InlineData("/orders/{id?}", "/v2/orders/{id}/lines", "/orders", "/v2/orders/lines")]
    [InlineData("/orders/page/{page=1}", "/list/{page}", "/orders/page", "/list/1")]
    [InlineData("/{tenant}/orders/{id:int}", "/orders/{id}/tenant/{tenant}", "/acme/orders/5", "/orders/5/tenant/acme")]
    [InlineData("/health", "/", "/health", "/")]
    [InlineData("/ORDERS/{id}", "/Upstream/Orders/{id}", "/orders/5", "/Upstream/Orders/5")]
    [InlineData("/docs", "/static/docs/", "/docs", "/static/docs/")]
    [InlineData("/items/{id}", "/v2/items/{id}/", "/items/9", "/v2/items/9/")]
    [InlineData("/files/{**rest}", "/static/{rest}/", "/files/a/b", "/static/a/b/")]
    [InlineData("/files/{**rest}", "/static/{rest}/", "/files/a/b/", "/static/a/b/")]
    [InlineData("/files/{**rest}", "/static/{rest}/", "/files", "/static/")]
    [InlineData("/orders/{id?}", "/{id}/", "/orders", "/")]
    public void UpstreamPath_is_filled_with_the_route_values(
        string template,
        string upstreamPath,
        string requestPath,
        string expected)
    {
        var values = AssertMatched(Matcher(Route("route", template)), Request(requestPath), "route");
        var rewriter = Create(template, upstreamPath, stripPrefix: null);

        Assert.Equal(expected, rewriter.Rewrite(new PathString(requestPath), values).Value);
    }

    [Fact]
    public void UpstreamPath_parameter_must_exist_in_the_route_path() =>
        AssertRejected(
            "/orders/{id}",
            "/v2/orders/{orderId}",
            null,
            "UpstreamPath '/v2/orders/{orderId}': parameter 'orderId' is not defined in Path '/orders/{id}'.");

    [Fact]
    public void UpstreamPath_cannot_have_constraints() =>
        AssertRejected(
            "/orders/{id:int}",
            "/v2/orders/{id:int}",
            null,
            "UpstreamPath '/v2/orders/{id:int}': parameter 'id' has a constraint; constraints belong on Path.");

    [Fact]
    public void UpstreamPath_cannot_have_defaults() =>
        AssertRejected(
            "/orders/{id?}",
            "/v2/orders/{id=1}",
            null,
            "UpstreamPath '/v2/orders/{id=1}': parameter 'id' has a default value; defaults belong on Path.");

    [Fact]
    public void UpstreamPath_follows_the_template_rules_and_says_which_setting_is_wrong() =>
        AssertRejected(
            "/files/{name}",
            "/files/{name}.json",
            null,
            "UpstreamPath '/files/{name}.json': segment '{name}.json' mixes literals and parameters; "
            + "use one parameter per segment.");

    [Fact]
    public void UpstreamPath_must_start_with_a_slash() =>
        AssertRejected("/orders/{id}", "v2/orders/{id}", null, "UpstreamPath 'v2/orders/{id}' must start with '/'.");

    [Fact]
    public void Value_with_a_space_and_question_mark_stays_in_the_path_when_forwarded()
    {
        // Kestrel hands the path over decoded: "/orders/a%20b%3Fc" arrives as "/orders/a b?c".
        const string template = "/orders/{id}";
        var values = AssertMatched(Matcher(Route("order", template)), Request("/orders/a b?c"), "order");
        var rewritten = Create(template, "/v2/orders/{id}", stripPrefix: null).Rewrite(new PathString("/orders/a b?c"), values);

        var destination = RequestUtilities.MakeDestinationAddress("https://upstream.test/base", rewritten, QueryString.Empty);

        Assert.Equal("/v2/orders/a b?c", rewritten.Value);
        Assert.Equal("/v2/orders/a%20b%3Fc", rewritten.ToUriComponent());
        Assert.Equal("/base/v2/orders/a%20b%3Fc", destination.AbsolutePath);
        Assert.Equal(string.Empty, destination.Query);
    }

    [Fact]
    public void Catch_all_value_with_a_question_mark_keeps_its_slashes_and_no_query_appears()
    {
        const string template = "/api/{**rest}";
        var values = AssertMatched(Matcher(Route("api", template)), Request("/api/docs/what?.md"), "api");
        var rewritten = Create(template, "/{**rest}", stripPrefix: null).Rewrite(new PathString("/api/docs/what?.md"), values);

        var destination = RequestUtilities.MakeDestinationAddress("https://upstream.test", rewritten, new QueryString("?lang=en"));

        Assert.Equal("/docs/what%3F.md", destination.AbsolutePath);
        Assert.Equal("?lang=en", destination.Query);
    }

    [Fact]
    public void Stripped_path_with_a_question_mark_stays_in_the_path_when_forwarded()
    {
        var rewritten = Create("/api/{**rest}", upstreamPath: null, stripPrefix: "/api")
            .Rewrite(new PathString("/api/a b?c"), []);

        Assert.Equal("/a%20b%3Fc", rewritten.ToUriComponent());
    }

    [Fact]
    public void Rewrite_uses_values_of_any_type()
    {
        var rewriter = Create("/orders/{id}", "/v2/{id}", stripPrefix: null);

        Assert.Equal("/v2/42", rewriter.Rewrite(new PathString("/orders/42"), new RouteValueDictionary { ["id"] = 42 }).Value);
    }

    private static PathRewriter Create(string template, string? upstreamPath, string? stripPrefix)
    {
        Assert.True(PathRewriter.TryCreate(Template(template), upstreamPath, stripPrefix, out var rewriter, out var error), error);
        return rewriter;
    }

    private static void AssertRejected(string template, string? upstreamPath, string? stripPrefix, string expectedError)
    {
        Assert.False(PathRewriter.TryCreate(Template(template), upstreamPath, stripPrefix, out var rewriter, out var error));
        Assert.Null(rewriter);
        Assert.Equal(expectedError, error);
    }
}
