using Microsoft.AspNetCore.Http;

namespace FuncGateway.Model;

/// <summary>
/// Runs after the response of every request the pipeline handled (metrics, logs, cache store), in registration
/// order. It must not alter the response: it runs once the response is complete, and what it throws is logged and
/// swallowed.
/// </summary>
internal interface IGatewayCompletion
{
    ValueTask OnCompletedAsync(GatewayCompletionContext context);
}

/// <summary>What a completion step sees.</summary>
/// <param name="HttpContext">The request, with its final response status.</param>
/// <param name="Feature">The gateway's request state; null when the request never matched a route (admin, 404, early refusals).</param>
/// <param name="StartTimestamp">When the pipeline started the request (<see cref="System.Diagnostics.Stopwatch.GetTimestamp"/>).</param>
internal readonly record struct GatewayCompletionContext(HttpContext HttpContext, GatewayRequestFeature? Feature, long StartTimestamp);
