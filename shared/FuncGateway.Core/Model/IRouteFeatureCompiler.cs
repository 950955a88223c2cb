namespace FuncGateway.Model;

/// <summary>
/// Compiles the part of a route that one capability owns (authentication, rate limits, retries...) when a snapshot
/// is built, never per request. The result is stored on <c>CompiledRoute</c> and read by that capability's
/// pipeline step with <c>CompiledRoute.GetFeature</c>.
/// </summary>
internal interface IRouteFeatureCompiler
{
    /// <summary>
    /// Returns the per-route object for the capability, or null when the route does not use it. Every problem is
    /// added to <paramref name="errors"/>; any error rejects the row.
    /// </summary>
    object? Compile(RouteDefinition route, List<string> errors);
}
