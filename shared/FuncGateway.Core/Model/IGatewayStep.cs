using Microsoft.AspNetCore.Http;

namespace FuncGateway.Model;

/// <summary>
/// One post-match step of the request path: it runs after route resolution and before the request transforms
/// (authentication, rate limits, validation). Steps of other phases have their own contracts:
/// <c>IGatewayPreMatchStep</c> and <see cref="IGatewayCompletion"/>; transforms are per route
/// (<see cref="IRouteTransformProvider"/>).
/// </summary>
internal interface IGatewayStep
{
    /// <summary>Position in the pipeline: one of the <see cref="GatewayStepOrder"/> values.</summary>
    GatewayStepOrder Order { get; }

    /// <summary>
    /// Whether the step has anything to do on <paramref name="route"/> (its capability compiled a feature for it). A
    /// step that does not apply is skipped for the route's requests: not called, no span. Asked once per route and
    /// snapshot.
    /// </summary>
    bool AppliesTo(CompiledRoute route) => true;

    /// <summary>The name of the step's child span (one of the <c>GatewayTelemetry</c> span names).</summary>
    string ActivityName { get; }

    /// <summary>
    /// Runs the step for a matched request. Returns false when the step has answered the request itself (e.g. 401,
    /// 429) and the pipeline must stop; true to continue.
    /// </summary>
    ValueTask<bool> InvokeAsync(HttpContext context, GatewayRequestFeature feature);
}
