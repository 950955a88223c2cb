using System.Diagnostics;
using FuncGateway.Diagnostics;
using FuncGateway.Model;
using FuncGateway.Routing;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace FuncGateway.Forwarding;

/// <summary>
/// The forwarding capability's transforms, on every route, in this order: the path rewrite; every header a client
/// may not speak for removed (<see cref="UntrustedRequestHeaders"/>), and its <c>Trailer</c> announcement (request
/// trailers are never forwarded); the gateway's own <c>X-Forwarded-For/-Proto/-Host</c>; <c>Host</c>. On the way
/// back: the headers the upstream names in its <c>Connection</c> header are for the gateway only. Then the request id
/// and trace context (<see cref="TraceContextTransform"/>).
/// </summary>
internal sealed class ForwardingTransformProvider(bool forwardBaggage = false) : IRouteTransformProvider
{
    private readonly TraceContextTransform _traceContext = forwardBaggage ? TraceContextTransform.WithBaggage : TraceContextTransform.WithoutBaggage;

    public static ForwardingTransformProvider Instance { get; } = new();

    public int Order => RouteTransformOrder.Forwarding;

    public void Apply(RouteTransformBuilderContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.GetFeature<PathRewriter>() is { } rewriter && !ReferenceEquals(rewriter, PathRewriter.Identity))
        {
            context.RequestTransforms.Add(new PathRewriteTransform(rewriter));
        }

        context.RequestTransforms.Add(UntrustedHeadersTransform.For(context.Route.Get(ForwardingProperties.AllowOverrideHeader)));
        context.RequestTransforms.Add(ForwardedHeadersTransform.Instance);
        context.RequestTransforms.Add(context.Route.PreserveHost ? HostTransform.Preserve : HostTransform.Upstream);
        context.ResponseTransforms.Add(ConnectionOptionsTransform.Instance);
    }
}

/// <summary>The request id and trace context on every route (<see cref="TraceContextTransform"/>), at <see cref="RouteTransformOrder.TraceContext"/>.</summary>
internal sealed class TraceContextTransformProvider(bool forwardBaggage = false) : IRouteTransformProvider
{
    private readonly TraceContextTransform _traceContext = forwardBaggage ? TraceContextTransform.WithBaggage : TraceContextTransform.WithoutBaggage;

    public static TraceContextTransformProvider Instance { get; } = new();

    public int Order => RouteTransformOrder.TraceContext;

    public void Apply(RouteTransformBuilderContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.RequestTransforms.Add(_traceContext);
    }
}

/// <summary>The route's rewrite of the request path (<see cref="PathRewriter"/>).</summary>
internal sealed class PathRewriteTransform(PathRewriter rewriter) : GatewayRequestTransform
{
    public override ValueTask ApplyAsync(GatewayRequestTransformContext context)
    {
        context.Path = rewriter.Rewrite(context.HttpContext.Request.Path, context.Feature.RouteValues);
        return ValueTask.CompletedTask;
    }
}

/// <summary>Removes <see cref="UntrustedRequestHeaders"/> (minus the route's one allowed override header) and <c>Trailer</c>.</summary>
internal sealed class UntrustedHeadersTransform : GatewayRequestTransform
{
    private static readonly UntrustedHeadersTransform NoOverride = new(null);

    private readonly string? _allowedOverride;

    private UntrustedHeadersTransform(string? allowedOverride) => _allowedOverride = allowedOverride;

    public static UntrustedHeadersTransform For(string? allowedOverride) => allowedOverride is null ? NoOverride : new(allowedOverride);

    public override ValueTask ApplyAsync(GatewayRequestTransformContext context)
    {
        UntrustedRequestHeaders.Remove(context.ProxyRequest, _allowedOverride);

        // Announces trailers the upstream would wait for in vain: request trailers are not forwarded.
        context.ProxyRequest.Headers.Remove(HeaderNames.Trailer);
        return ValueTask.CompletedTask;
    }
}

/// <summary>The gateway's own <c>X-Forwarded-For</c>, <c>X-Forwarded-Proto</c> and (for a vouched public host) <c>X-Forwarded-Host</c>.</summary>
internal sealed class ForwardedHeadersTransform : GatewayRequestTransform
{
    public static ForwardedHeadersTransform Instance { get; } = new();

    public override ValueTask ApplyAsync(GatewayRequestTransformContext context)
    {
        var feature = context.Feature;
        var headers = context.ProxyRequest.Headers;
        if (feature.ClientAddress is { } client)
        {
            headers.TryAddWithoutValidation("X-Forwarded-For", client.ToString());
        }

        headers.TryAddWithoutValidation("X-Forwarded-Proto", feature.ClientScheme);

        // Appended to the client's list (copied with the other headers), so a request that comes back is counted.
        headers.TryAddWithoutValidation(ForwardingLoop.HeaderName, ForwardingLoop.Id);

        // Only a host that matched FuncGateway:Forwarding:PublicHosts: an upstream builds links and redirects from it.
        if (feature.PublicHost is { } host)
        {
            headers.TryAddWithoutValidation("X-Forwarded-Host", host);
        }

        return ValueTask.CompletedTask;
    }
}

/// <summary>
/// <c>X-Request-Id</c>: the gateway's request id, replacing the client's. With a gateway span current (the upstream
/// attempt's, else the request's): <c>traceparent</c> naming it as the parent and <c>tracestate</c> from the trace,
/// replacing the client's (and the legacy <c>Request-Id</c>); for a request the gateway's sampling did not record, the
/// same from its unrecorded trace context (not sampled). Without either (nobody listens) the client's trace headers
/// pass as they came. The client's <c>baggage</c> (and legacy <c>Correlation-Context</c>) is removed unless
/// <c>FuncGateway:Telemetry:ForwardBaggage</c>.
/// </summary>
internal sealed class TraceContextTransform : GatewayRequestTransform
{
    private readonly bool _forwardBaggage;

    private TraceContextTransform(bool forwardBaggage) => _forwardBaggage = forwardBaggage;

    public static TraceContextTransform WithBaggage { get; } = new(true);

    public static TraceContextTransform WithoutBaggage { get; } = new(false);

    public override ValueTask ApplyAsync(GatewayRequestTransformContext context)
    {
        var headers = context.ProxyRequest.Headers;
        if (!_forwardBaggage)
        {
            headers.Remove("baggage");
            headers.Remove("Correlation-Context");
        }

        headers.Remove(RequestId.HeaderName);
        headers.TryAddWithoutValidation(RequestId.HeaderName, context.HttpContext.TraceIdentifier);
        if (Activity.Current is { } activity && GatewayTelemetry.IsGatewayActivity(activity) && activity.IdFormat == ActivityIdFormat.W3C)
        {
            Propagate(headers, activity.Id!, activity.TraceStateString);
        }
        else if (context.Feature.UnrecordedTrace is { TraceId: var traceId } unrecorded && traceId != default)
        {
            Propagate(headers, GatewayTelemetry.TraceParent(unrecorded), unrecorded.TraceState);
        }

        return ValueTask.CompletedTask;
    }

    private static void Propagate(System.Net.Http.Headers.HttpRequestHeaders headers, string traceParent, string? traceState)
    {
        headers.Remove("traceparent");
        headers.Remove("tracestate");
        headers.Remove("Request-Id");
        headers.TryAddWithoutValidation("traceparent", traceParent);

        // Also a trace state the gateway did not read itself (a parent span of the host's): within the spec's limits.
        traceState = TraceState.Limit(traceState);
        if (traceState is { Length: > 0 })
        {
            headers.TryAddWithoutValidation("tracestate", traceState);
        }
    }
}

/// <summary>The base copy keeps the client's <c>Host</c>; the upstream sees its own unless the route sets <c>PreserveHost</c>.</summary>
internal sealed class HostTransform : GatewayRequestTransform
{
    private readonly bool _preserve;

    private HostTransform(bool preserve) => _preserve = preserve;

    public static HostTransform Preserve { get; } = new(true);

    public static HostTransform Upstream { get; } = new(false);

    public override ValueTask ApplyAsync(GatewayRequestTransformContext context)
    {
        var request = context.HttpContext.Request;
        context.ProxyRequest.Headers.Host = _preserve && request.Host.HasValue ? request.Host.Value : null;
        return ValueTask.CompletedTask;
    }
}

/// <summary>RFC 9110 §7.6.1: every header a <c>Connection</c> option of the upstream's response names is hop-by-hop and is not passed on.</summary>
internal sealed class ConnectionOptionsTransform : GatewayResponseTransform
{
    public static ConnectionOptionsTransform Instance { get; } = new();

    public override ValueTask ApplyAsync(GatewayResponseTransformContext context)
    {
        if (context.ProxyResponse is { } response && response.Headers.NonValidated.TryGetValues(HeaderNames.Connection, out var connection))
        {
            RemoveConnectionOptions(context.HttpContext.Response.Headers, connection, (int)response.StatusCode);
        }

        return ValueTask.CompletedTask;
    }

    internal static void RemoveConnectionOptions(IHeaderDictionary headers, System.Net.Http.Headers.HeaderStringValues connection, int status)
    {
        foreach (var value in connection)
        {
            foreach (var range in value.AsSpan().Split(','))
            {
                var name = value.AsSpan()[range].Trim(" \t");
                if (name.Length == 0 || name.Equals("close", StringComparison.OrdinalIgnoreCase) || name.Equals("keep-alive", StringComparison.OrdinalIgnoreCase))
                {
                    continue;
                }

                // A 101's Upgrade header is what the client switches to; YARP restores it on purpose.
                if (status == StatusCodes.Status101SwitchingProtocols && name.Equals(HeaderNames.Upgrade, StringComparison.OrdinalIgnoreCase))
                {
                    continue;
                }

                headers.Remove(name.ToString());
            }
        }
    }
}
