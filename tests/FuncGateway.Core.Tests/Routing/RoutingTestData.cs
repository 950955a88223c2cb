using FuncGateway.Routing;

namespace FuncGateway.Core.Tests.Routing;

/// <summary>Builders for templates, route specs, matchers and requests used by the routing tests.</summary>
internal static class RoutingTestData
{
    public static RouteTemplate Template(string text)
    {
        Assert.True(RouteTemplate.TryParse(text, out var template, out var error), error);
        return template;
    }
}
