using System.Globalization;
using FuncGateway.Routing;
using static FuncGateway.Core.Tests.Routing.RoutingTestData;

namespace FuncGateway.Core.Tests.Routing;

public sealed class RouteMatcherScaleTests
{
    private const int RouteCount = 5_000;

    [Fact]
    public void Each_of_5000_routes_is_matched_by_its_own_request()
    {
        var routes = new List<RouteMatchSpec>(RouteCount + 2);
        var requests = new List<(string Path, string Method, string RouteId, string Key, string Value)>(RouteCount);
        for (var i = 0; i < RouteCount; i++)
        {
            var n = i.ToString(CultureInfo.InvariantCulture);
            var tenant = $"tenant{i / 10}";
            switch (i % 5)
            {
                case 0:
                    routes.Add(Route($"r{n}", $"/{tenant}/orders{n}/{{id:int}}"));
                    requests.Add(($"/{tenant}/orders{n}/{i * 7}", "GET", $"r{n}", "id", (i * 7).ToString(CultureInfo.InvariantCulture)));
                    break;
                case 1:
                    routes.Add(Route($"r{n}", $"/{tenant}/files{n}/{{**path}}"));
                    requests.Add(($"/{TitleCase(tenant)}/FILES{n}/a/b{n}.txt", "GET", $"r{n}", "path", $"a/b{n}.txt"));
                    break;
                case 2:
                    routes.Add(Route($"r{n}", $"/{tenant}/items{n}/{{sku}}/detail"));
                    requests.Add(($"/{tenant}/items{n}/sku-{n}/detail/", "GET", $"r{n}", "sku", $"sku-{n}"));
                    break;
                case 3:
                    // Same path for the whole tenant; the method picks the route.
                    routes.Add(Route($"r{n}", $"/{tenant}/status") with { Methods = [$"M{n}"] });
                    requests.Add(($"/{tenant}/status", $"M{n}", $"r{n}", "tenant", tenant));
                    break;
                default:
                    routes.Add(Route($"r{n}", $"/{tenant}/reports{n}/{{year:int}}/{{month?}}"));
                    requests.Add(($"/{tenant}/reports{n}/2024", "GET", $"r{n}", "year", "2024"));
                    break;
            }
        }

        // Generic routes that must only win where no specific route exists.
        routes.Add(Route("any-collection", "/{tenant}/{collection}/{x}"));
        routes.Add(Route("fallback", "/{**rest}"));

        var matcher = Matcher([.. routes]);

        foreach (var (path, method, routeId, key, value) in requests)
        {
            var result = matcher.Match(Request(path, method: method));

            Assert.True(
                result.Outcome == RouteMatchOutcome.Matched && result.Route == routeId,
                $"{method} {path}: expected {routeId}, got {result.Outcome} {result.Route}");
            if (key != "tenant")
            {
                Assert.Equal(value, result.Values![key]);
            }
        }

        Assert.Equal("any-collection", matcher.Match(Request("/unknown-tenant/orders0/5")).Route);
        Assert.Equal("any-collection", matcher.Match(Request("/tenant0/orders0/not-a-number")).Route);
        Assert.Equal("fallback", matcher.Match(Request("/tenant0/status", method: "GET")).Route);
        Assert.Equal("fallback", matcher.Match(Request("/tenant0/orders0/5/extra")).Route);
    }

    private static string TitleCase(string text) => char.ToUpperInvariant(text[0]) + text[1..];
}
