using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace FuncGateway.Routing;

/// <summary>
/// A condition a capability adds to a route's match beyond its path, hosts, headers and query: the API version a
/// request names. The matcher checks it after those and the path's constraints, and before the method; a candidate
/// that fails here is reported with a no-match (<see cref="RouteMatchResult{TRoute}.FailedConditions"/>) so that the
/// capability can answer better than 404 (the versions that exist).
/// </summary>
internal interface IRouteMatchCondition
{
    /// <summary>
    /// What the condition admits, for conflict detection: routes of the same shape, hosts, conditions and priority
    /// conflict only when their keys are equal (the same version of the same set).
    /// </summary>
    string ConflictKey { get; }

    /// <summary>
    /// Whether the request meets the condition; <paramref name="values"/> are the route values of the candidate's
    /// path when the matcher has built them already (for its constraints), null otherwise: a condition reads the
    /// request itself rather than make every candidate allocate them.
    /// </summary>
    bool Matches(HttpRequest request, RouteValueDictionary? values);
}

/// <summary>
/// A per-route feature (compiled by a capability's <c>IRouteFeatureCompiler</c>) that shapes how its route is matched,
/// applied when the snapshot is built: a condition added to the route's spec, and further specs that reach the same
/// route (the default version's path without its version segment).
/// </summary>
internal interface IRouteMatchFeature
{
    /// <summary>The route's specs: <paramref name="spec"/> refined, with any alternates set on it. Problems go to <paramref name="errors"/>.</summary>
    RouteMatchSpec Refine(RouteMatchSpec spec, List<string> errors);
}
