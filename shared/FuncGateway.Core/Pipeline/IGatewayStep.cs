using Microsoft.AspNetCore.Http;

namespace FuncGateway.Pipeline;

/// <summary>One step of the request path between route resolution and forwarding.</summary>
internal interface IGatewayStep
{
    /// <summary>Position in the pipeline: one of the <see cref="GatewayStepOrder"/> constants.</summary>
    int Order { get; }

    /// <summary>
    /// Runs the step for a matched request. Returns false when the step has answered the request itself (e.g. 401,
    /// 429) and the pipeline must stop; true to continue.
    /// </summary>
    ValueTask<bool> InvokeAsync(HttpContext context, GatewayRequestFeature feature);
}

/// <summary>The order of the pipeline's steps, defined in one place.</summary>
internal static class GatewayStepOrder
{
    /// <summary>Authenticate the caller and authorize the route.</summary>
    public const int Authentication = 100;

    /// <summary>Apply the route's rate limits (partition keys may use the identity).</summary>
    public const int RateLimiting = 200;

    /// <summary>Rewrite what goes upstream: identity headers, user context.</summary>
    public const int RequestTransforms = 300;
}
