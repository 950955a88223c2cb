using Microsoft.AspNetCore.Http;

namespace FuncGateway.Model;

/// <summary>
/// A route's compiled feature (see <see cref="IRouteFeatureCompiler"/>) that answers the request itself instead of
/// forwarding it to the route's upstream: a fixed response, a composition of several upstream requests. Such a route
/// has no <c>Upstream</c> of its own. Every step before forwarding (IP rules, CORS, authentication, rate limits,
/// validation, the concurrency limit) still runs; the responder replaces only the forward phase.
/// </summary>
internal interface IRouteResponder
{
    /// <summary>The route property that makes the route answer itself (<c>FixedResponse</c>, <c>Composition</c>), for messages.</summary>
    string Property { get; }

    /// <summary>Called once, when the compiled route that carries the responder is built (before any request).</summary>
    void Attach(CompiledRoute route)
    {
    }

    /// <summary>Answers the request; the response is complete when the task ends.</summary>
    Task RespondAsync(HttpContext context, GatewayRequestFeature feature);
}
