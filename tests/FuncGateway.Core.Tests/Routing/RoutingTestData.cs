using FuncGateway.Routing;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Primitives;

namespace FuncGateway.Core.Tests.Routing;

/// <summary>Builders for templates, route specs, matchers and requests used by the routing tests.</summary>
internal static class RoutingTestData
{
    public static RouteTemplate Template(string text)
    {
        Assert.True(RouteTemplate.TryParse(text, out var template, out var error), error);
        return template;
    }

    public static RouteMatchSpec Route(string routeId, string template, int priority = 0) =>
        new(routeId, Template(template), priority);

    /// <summary>A matcher whose routes are their own ids, so tests assert on the id that won.</summary>
    public static RouteMatcher<string> Matcher(params RouteMatchSpec[] routes) =>
        RouteMatcher<string>.Build(routes.Select(static spec => KeyValuePair.Create(spec, spec.RouteId)));

    public static HttpRequest Request(
        string path,
        string method = "GET",
        string host = "gateway.test",
        string scheme = "https",
        string? query = null,
        params (string Name, string[] Values)[] headers)
    {
        var context = new DefaultHttpContext();
        var request = context.Request;
        request.Method = method;
        request.Scheme = scheme;
        request.Host = new HostString(host);
        request.Path = new PathString(path);
        if (query is not null)
        {
            request.QueryString = new QueryString(query);
        }

        foreach (var (name, values) in headers)
        {
            request.Headers[name] = new StringValues(values);
        }

        return request;
    }

    /// <summary>Asserts the request matched <paramref name="routeId"/> and returns the route values.</summary>
    public static RouteValueDictionary AssertMatched(
        RouteMatcher<string> matcher,
        HttpRequest request,
        string routeId)
    {
        var result = matcher.Match(request);
        Assert.Equal(RouteMatchOutcome.Matched, result.Outcome);
        Assert.Equal(routeId, result.Route);
        Assert.NotNull(result.Values);
        return result.Values;
    }

    public static void AssertNotFound(RouteMatcher<string> matcher, HttpRequest request)
    {
        var result = matcher.Match(request);
        Assert.Equal(RouteMatchOutcome.NotFound, result.Outcome);
        Assert.Null(result.Route);
        Assert.Empty(result.AllowedMethods);
    }
}
