using FuncGateway.Forwarding;
using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Forwarder;

namespace FuncGateway.Resilience;

/// <summary>
/// The gateway's transformer (<see cref="GatewayHttpTransformer"/>) plus one decision: a retryable 5xx response is
/// not copied to the client when the request can still go to another instance. Returning false before anything is
/// copied leaves the client's response untouched, so the next attempt starts clean.
/// </summary>
internal sealed class ResilientHttpTransformer : HttpTransformer
{
    public static ResilientHttpTransformer Instance { get; } = new();

    public override ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken) =>
        GatewayHttpTransformer.Instance.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken);

    public override ValueTask<bool> TransformResponseAsync(HttpContext httpContext, HttpResponseMessage? proxyResponse, CancellationToken cancellationToken)
    {
        if (proxyResponse is not null && (int)proxyResponse.StatusCode >= 500
            && httpContext.Features.Get<ForwardAttempt>() is { } attempt && attempt.TryHoldBack((int)proxyResponse.StatusCode))
        {
            return ValueTask.FromResult(false);
        }

        return GatewayHttpTransformer.Instance.TransformResponseAsync(httpContext, proxyResponse, cancellationToken);
    }

    public override ValueTask TransformResponseTrailersAsync(HttpContext httpContext, HttpResponseMessage proxyResponse, CancellationToken cancellationToken) =>
        GatewayHttpTransformer.Instance.TransformResponseTrailersAsync(httpContext, proxyResponse, cancellationToken);
}
