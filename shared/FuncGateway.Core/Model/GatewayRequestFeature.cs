using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Routing;

namespace FuncGateway.Model;

/// <summary>Per-request state of the gateway, carried on <c>HttpContext.Features</c>.</summary>
public sealed class GatewayRequestFeature
{
    internal GatewayRequestFeature(CompiledRoute route, RouteValueDictionary routeValues)
    {
        Route = route;
        RouteValues = routeValues;
    }


    /// <summary>The matched route.</summary>
    public CompiledRoute Route { get; }

    /// <summary>Values captured by the route's path template.</summary>
    public RouteValueDictionary RouteValues { get; }

    /// <summary>The client's address as the gateway determined it (socket peer, or via trusted proxies).</summary>
    public IPAddress? ClientAddress { get; internal set; }

    /// <summary>The scheme the client used.</summary>
    public string ClientScheme { get; internal set; } = "http";

    /// <summary>
    /// The host the client named, when it matched <c>FuncGateway:Forwarding:PublicHosts</c>: the only host ever sent
    /// upstream as <c>X-Forwarded-Host</c>. Null without a list (or for a request without a host).
    /// </summary>
    public string? PublicHost { get; internal set; }

    /// <summary>Who the caller is, once authenticated; null for an anonymous route or before authentication.</summary>
    public GatewayIdentity? Identity { get; internal set; }

    /// <summary>The request is forwarded as a tunnel (a WebSocket upgrade) on a connection used for nothing else.</summary>
    public bool IsTunnel { get; internal init; }

    /// <summary>
    /// What to answer instead of a gateway-made error when the upstream fails (unreachable, timed out, 5xx, no instance
    /// available): set by a post-match step that holds a usable copy (the response cache's stale entry); null otherwise.
    /// </summary>
    internal IUpstreamFailureResponse? FailureResponse { get; set; }

    /// <summary>
    /// The largest request body this request may send, when a step set one for the route (its <c>Validation</c>
    /// <c>maxBodyBytes</c>); null: <c>FuncGateway:Forwarding:MaxRequestBodySizeBytes</c>. Forwarding enforces it.
    /// </summary>
    public long? MaxRequestBodySizeBytes { get; internal set; }

    /// <summary>The upstream instance chosen for the request, once chosen.</summary>
    public UpstreamInstance? Instance { get; internal set; }

    /// <summary>The policy that accepted the caller, or that refused it (<c>anonymous</c> on an anonymous route).</summary>
    public string? AuthPolicy { get; internal set; }

    /// <summary>How authentication ended: <c>success</c>, <c>anonymous</c>, or the refusal's problem code.</summary>
    public string? AuthOutcome { get; internal set; }

    /// <summary>The rate-limit policy that decided (the refusing one, else the last that admitted the request).</summary>
    public string? RateLimitPolicy { get; internal set; }

    /// <summary>The rate-limit decision: <c>allowed</c>, <c>rejected</c> or <c>unavailable</c>; null on a route without limits.</summary>
    public string? RateLimitDecision { get; internal set; }

    /// <summary>How many times the request was sent to an upstream instance (retries included).</summary>
    public int UpstreamAttempts { get; internal set; }

    /// <summary>Time spent in upstream attempts, summed.</summary>
    public TimeSpan UpstreamTime { get; internal set; }

    /// <summary>
    /// The trace context of a request the gateway's sampling did not record (it has no span): the upstream's
    /// <c>traceparent</c> continues it. Default for a recorded request or without tracing.
    /// </summary>
    internal ActivityContext UnrecordedTrace { get; init; }

    /// <summary>The client's body once a step has buffered it (<see cref="RequestBodyReader"/>), so no other step reads it again.</summary>
    internal ReadOnlyMemory<byte>? BufferedRequestBody { get; set; }

    /// <summary>
    /// The body the upstream receives instead of the client's, and its media type, once the route's request body
    /// transforms have run (once per request; every attempt sends it). A null media type keeps the client's.
    /// </summary>
    internal (ReadOnlyMemory<byte> Body, string? ContentType)? TransformedRequestBody { get; set; }
}

/// <summary>The stable code of the problem response the gateway wrote for this request, if it wrote one.</summary>
internal sealed class GatewayProblemFeature(string code)
{
    public string Code { get; } = code;
}
