using FuncGateway.Model;

namespace FuncGateway.Routing;

/// <summary>Everything the <see cref="RouteMatcher{TRoute}"/> needs to know about one route.</summary>
/// <param name="RouteId">Identifies the route; the last tie-break between routes of the same shape (ordinal).</param>
/// <param name="Template">The path template.</param>
/// <param name="Priority">Higher wins between routes of the same shape.</param>
internal sealed record RouteMatchSpec(string RouteId, RouteTemplate Template, int Priority)
{
    /// <summary>Upper-case method tokens; empty matches any method.</summary>
    public IReadOnlyList<string> Methods { get; init; } = [];

    /// <summary>Host patterns (<c>api.example.com</c>, <c>*.example.com</c>, optional <c>:port</c>); empty matches any host.</summary>
    public IReadOnlyList<string> Hosts { get; init; } = [];

    public IReadOnlyList<RequestCondition> Headers { get; init; } = [];

    public IReadOnlyList<RequestCondition> Query { get; init; } = [];

    /// <summary>A capability's further condition (the API version), or null.</summary>
    public IRouteMatchCondition? Condition { get; init; }

    /// <summary>Further specs that reach the same route (the default version's path without its version segment).</summary>
    public IReadOnlyList<RouteMatchSpec> Alternates { get; init; } = [];
}
