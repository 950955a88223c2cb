using FuncGateway.Model;
using FuncGateway.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Forwarder;

namespace FuncGateway.Forwarding;

/// <summary>
/// The gateway's structured transformer, after YARP's: YARP's default request copy (hop-by-hop headers dropped, bodies
/// streamed), then the route's compiled request transforms (<see cref="RouteTransforms"/>) in order, then
/// the URI from the transforms' prefix, path and query. On the way back: YARP's copy of status and headers, then the
/// route's response transforms, before the body streams. The body is buffered only on a route whose transforms need
/// it, and only up to <c>FuncGateway:Forwarding:MaxBufferedResponseBytes</c> (over it: 502 <c>response_too_large</c>).
/// One per forwarded request, for the request's feature; see <c>ResilientHttpTransformer</c> for the retry hooks.
/// </summary>
internal class GatewayHttpTransformer : HttpTransformer
{
    private readonly GatewayRequestFeature _feature;
    private readonly long _maxBufferedResponseBytes;
    private readonly ILogger _logger;

    public GatewayHttpTransformer(GatewayRequestFeature feature, long maxBufferedResponseBytes, ILogger logger)
    {
        _feature = feature;
        _maxBufferedResponseBytes = maxBufferedResponseBytes;
        _logger = logger;
    }

    public override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
    {
        await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken);

        var transforms = _feature.Route.Transforms.Request;
        if (transforms.IsEmpty)
        {
            proxyRequest.RequestUri = UpstreamAddress.Make(destinationPrefix, httpContext.Request.Path, httpContext.Request.QueryString, httpContext);
            return;
        }

        var context = new GatewayRequestTransformContext(httpContext, proxyRequest, _feature, destinationPrefix, cancellationToken);
        foreach (var transform in transforms)
        {
            await transform.ApplyAsync(context);
        }

        // A transform that must see the final address (the signed context) builds it and runs last.
        proxyRequest.RequestUri ??= context.BuildRequestUri();
    }

    public override async ValueTask<bool> TransformResponseAsync(HttpContext httpContext, HttpResponseMessage? proxyResponse, CancellationToken cancellationToken)
    {
        if (proxyResponse is not null)
        {
            OnUpstreamStatus((int)proxyResponse.StatusCode);
            if (proxyResponse.StatusCode == System.Net.HttpStatusCode.SwitchingProtocols && !_feature.IsTunnel)
            {
                // A 101 the gateway did not ask for (it forwards only WebSocket upgrades, on routes that allow them).
                // YARP would turn the client's connection into a tunnel whenever the client's own request said
                // 'Connection: upgrade' (Upgrade: h2c, say); not returning true disposes the upstream's connection.
                Log.UnrequestedSwitchingProtocols(_logger, _feature.Route.Definition.Id);
                await GatewayProblem.WriteAsync(httpContext, StatusCodes.Status502BadGateway, ProblemCodes.UpstreamError,
                    "The upstream failed to handle the request.", "The upstream switched protocols without being asked to.");
                return false;
            }
        }

        // First of all, before anything is copied: a held-back answer leaves the client's response untouched.
        if (proxyResponse is not null && (int)proxyResponse.StatusCode >= 500 && await HoldBackAsync(proxyResponse, cancellationToken))
        {
            return false;
        }

        // An upstream 5xx that will not be retried, on a request the cache holds a usable stale copy for: the copy.
        if (proxyResponse is not null && (int)proxyResponse.StatusCode >= 500 && _feature.FailureResponse is { } substitute
            && await substitute.TryWriteAsync(httpContext))
        {
            return false;
        }

        var transforms = _feature.Route.Transforms;
        ReadOnlyMemory<byte>? body = null;
        var buffers = transforms.BuffersResponseBody && proxyResponse is not null && proxyResponse.StatusCode != System.Net.HttpStatusCode.SwitchingProtocols;
        using var bodySpan = buffers ? GatewayTelemetry.StartChild(GatewayTelemetry.BodyTransformActivityName) : null;
        if (buffers)
        {
            bodySpan?.SetTag(GatewayTelemetry.RouteIdTag, _feature.Route.Definition.Id);
            try
            {
                body = await ResponseBodyBuffer.ReadAsync(proxyResponse!.Content, _maxBufferedResponseBytes, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested && !httpContext.RequestAborted.IsCancellationRequested)
            {
                // The route's timeout, as for a response that never came: YARP's activity timer runs on from the
                // response head and only its own body copy restarts it, so here it bounds the whole body's arrival.
                bodySpan?.SetTag(GatewayTelemetry.DecisionTag, "timeout");
                Log.ResponseBodyTimedOut(_logger, _feature.Route.Definition.Id);
                await GatewayProblem.WriteAsync(httpContext, StatusCodes.Status504GatewayTimeout, ProblemCodes.UpstreamTimeout, "The upstream did not answer in time.");
                return false;
            }

            if (body is null)
            {
                bodySpan?.SetTag(GatewayTelemetry.DecisionTag, "too_large");
                await RefuseTooLargeAsync(httpContext);
                return false;
            }

            bodySpan?.SetTag("funcgateway.body.bytes_in", body.Value.Length);
        }

        var copy = await base.TransformResponseAsync(httpContext, proxyResponse, cancellationToken);
        if (httpContext.Response.StatusCode is StatusCodes.Status204NoContent or < 200)
        {
            // RFC 9110 §8.6: a 1xx or 204 has no content and no Content-Length. An upstream that sends one anyway
            // (with or without bytes after its head, which SocketsHttpHandler never reads) would make Kestrel refuse
            // the response and the client get a bare 500 instead of the upstream's 204.
            httpContext.Response.Headers.ContentLength = null;
        }

        if (transforms.Response.IsEmpty && body is null)
        {
            return copy;
        }

        var context = new GatewayResponseTransformContext(httpContext, proxyResponse, _feature, body, cancellationToken);
        try
        {
            foreach (var transform in transforms.Response)
            {
                await transform.ApplyAsync(context);
                if (context.IsRefused)
                {
                    OnRefused();
                    break;
                }
            }
        }
#pragma warning disable CA1031 // A transform that throws is a gateway bug: answered as one here, since YARP would report it as the upstream's failure.
        catch (Exception ex) when (!httpContext.Response.HasStarted && !httpContext.RequestAborted.IsCancellationRequested
            && !(ex is OperationCanceledException && cancellationToken.IsCancellationRequested))
#pragma warning restore CA1031
        {
            // Thrown out of here, YARP reports ResponseHeaders: a 502 upstream_error, a retry on another instance and a
            // failure on this instance's breaker, for an upstream that answered. The attempt is refused instead.
            OnRefused();
            httpContext.Response.Clear();
            await GatewayProblem.InternalErrorAsync(httpContext, _logger, ex);
            return false;
        }

        if (bodySpan is not null)
        {
            bodySpan.SetTag(GatewayTelemetry.DecisionTag, context.IsRefused ? "refused" : context.BodyChanged ? "changed" : "unchanged");
            bodySpan.SetTag("funcgateway.body.bytes_out", context.SuppressResponseBody ? 0 : context.Body.Length);
        }

        if (context.SuppressResponseBody)
        {
            return false;
        }

        if (body is null)
        {
            return copy;
        }

        // The buffered body is the gateway's to send; YARP copies nothing more.
        if (context.BodyChanged)
        {
            httpContext.Response.ContentLength = context.Body.Length;
        }

        if (!context.Body.IsEmpty)
        {
            await httpContext.Response.Body.WriteAsync(context.Body, cancellationToken);
        }

        return false;
    }

    /// <summary>
    /// Whether a 5xx answer is kept from the client so another instance can be tried (an override that says yes keeps
    /// what it needs of <paramref name="proxyResponse"/>: it is disposed). Never, by default.
    /// </summary>
    protected virtual ValueTask<bool> HoldBackAsync(HttpResponseMessage proxyResponse, CancellationToken cancellationToken) => ValueTask.FromResult(false);

    /// <summary>Called with the instance's own status before the response transforms run (they may map it). Nothing, by default.</summary>
    protected virtual void OnUpstreamStatus(int status)
    {
    }

    /// <summary>Called when the gateway answered in the upstream's place (the response was refused, not failed).</summary>
    protected virtual void OnRefused()
    {
    }

    private async Task RefuseTooLargeAsync(HttpContext httpContext)
    {
        OnRefused();
        Log.ResponseTooLarge(_logger, _feature.Route.Definition.Id, _maxBufferedResponseBytes);
        await GatewayProblem.WriteAsync(httpContext, StatusCodes.Status502BadGateway, ProblemCodes.ResponseTooLarge,
            "The upstream's response is too large for this route.", $"The route buffers response bodies up to {_maxBufferedResponseBytes} bytes.");
    }
}
