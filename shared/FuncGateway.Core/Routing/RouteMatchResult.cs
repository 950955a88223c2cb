using Microsoft.AspNetCore.Routing;

namespace FuncGateway.Routing;

/// <summary>The answer of <see cref="RouteMatcher{TRoute}.Match(Microsoft.AspNetCore.Http.HttpRequest, string)"/>.</summary>
internal readonly struct RouteMatchResult<TRoute>
    where TRoute : class
{
    private readonly IReadOnlyList<string>? _allowedMethods;
    private readonly IReadOnlyList<IRouteMatchCondition>? _failedConditions;

    private RouteMatchResult(
        RouteMatchOutcome outcome,
        TRoute? route,
        RouteValueDictionary? values,
        IReadOnlyList<string>? allowedMethods,
        IReadOnlyList<IRouteMatchCondition>? failedConditions = null)
    {
        _failedConditions = failedConditions;
        Outcome = outcome;
        Route = route;
        Values = values;
        _allowedMethods = allowedMethods;
    }

    public RouteMatchOutcome Outcome { get; }

    /// <summary>The winning route; set when <see cref="RouteMatchOutcome.Matched"/>.</summary>
    public TRoute? Route { get; }

    /// <summary>The route values (captured parameters and applied defaults); set when <see cref="RouteMatchOutcome.Matched"/>.</summary>
    public RouteValueDictionary? Values { get; }

    /// <summary>
    /// When <see cref="RouteMatchOutcome.MethodNotAllowed"/>: the methods of the routes that matched everything but
    /// the method, distinct and sorted ordinally (the <c>Allow</c> header). Empty otherwise.
    /// </summary>
    public IReadOnlyList<string> AllowedMethods => _allowedMethods ?? [];

    /// <summary>
    /// When <see cref="RouteMatchOutcome.NotFound"/>: the conditions (<see cref="IRouteMatchCondition"/>) of routes that
    /// matched everything else about the request, in the order they were tried. Empty otherwise.
    /// </summary>
    public IReadOnlyList<IRouteMatchCondition> FailedConditions => _failedConditions ?? [];

    internal static RouteMatchResult<TRoute> Matched(TRoute route, RouteValueDictionary values) =>
        new(RouteMatchOutcome.Matched, route, values, null);

    internal static RouteMatchResult<TRoute> NotFound(IReadOnlyList<IRouteMatchCondition>? failedConditions = null) =>
        new(RouteMatchOutcome.NotFound, null, null, null, failedConditions);

    internal static RouteMatchResult<TRoute> MethodNotAllowed(IReadOnlyList<string> allowedMethods) =>
        new(RouteMatchOutcome.MethodNotAllowed, null, null, allowedMethods);
}
