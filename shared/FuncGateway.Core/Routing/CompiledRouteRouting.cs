using FuncGateway.Model;

namespace FuncGateway.Routing;

/// <summary>What routing compiled for a route: how it is matched and how its path is rewritten.</summary>
internal static class CompiledRouteRouting
{
    extension(CompiledRoute route)
    {
        /// <summary>How the route is matched (path template, methods, hosts, conditions, priority).</summary>
        public RouteMatchSpec MatchSpec => route.GetFeature<RouteMatchSpec>()!;

        /// <summary>The route's rewrite of the request path to the upstream path.</summary>
        public PathRewriter Rewriter => route.GetFeature<PathRewriter>()!;
    }
}
