using FuncGateway.Model;
using System.Net;
using FuncGateway.Configuration;
using FuncGateway.Diagnostics;
using FuncGateway.Routing;
using Microsoft.AspNetCore.Http;

namespace FuncGateway.Pipeline;

/// <summary>
/// A step of the pre-match phase: it runs after the pipeline's own checks (framing, client address, public host)
/// and before the route match is acted on, so it can answer requests the route table would refuse (a CORS preflight
/// for a route that does not list OPTIONS, which would otherwise get 405) or reject early.
/// </summary>
internal interface IGatewayPreMatchStep
{
    /// <summary>Position within the pre-match phase (lower first).</summary>
    int Order { get; }

    /// <summary>Returns false when the step has answered the request and the pipeline must stop; true to continue.</summary>
    ValueTask<bool> InvokeAsync(HttpContext context, GatewayPreMatchContext match);
}

/// <summary>What a pre-match step can see: the snapshot, the client, and the route table's answer for the request.</summary>
internal sealed class GatewayPreMatchContext
{
    private readonly HttpRequest _request;
    private RouteMatchResult<CompiledRoute> _match;
    private bool _matched;

    internal GatewayPreMatchContext(HttpRequest request, GatewaySnapshot snapshot, IPAddress? clientAddress, string clientScheme)
    {
        _request = request;
        Snapshot = snapshot;
        ClientAddress = clientAddress;
        ClientScheme = clientScheme;
    }

    /// <summary>The snapshot the request is matched against.</summary>
    public GatewaySnapshot Snapshot { get; }

    /// <summary>The client's address as the gateway determined it.</summary>
    public IPAddress? ClientAddress { get; }

    /// <summary>The scheme the client used.</summary>
    public string ClientScheme { get; }

    /// <summary>The route table's answer for the request as sent (computed once, on first use).</summary>
    public RouteMatchResult<CompiledRoute> Match
    {
        get
        {
            if (!_matched)
            {
                _match = MatchTraced(Snapshot, _request);
                _matched = true;
            }

            return _match;
        }
    }

    /// <summary>The route table's answer for <paramref name="request"/>, under a <c>FuncGateway.RouteMatch</c> span when the request is traced.</summary>
    internal static RouteMatchResult<CompiledRoute> MatchTraced(GatewaySnapshot snapshot, HttpRequest request)
    {
        using var matching = GatewayTelemetry.StartChild(GatewayTelemetry.RouteMatchActivityName);
        var match = snapshot.Matcher.Match(request);
        matching?.SetTag(GatewayTelemetry.DecisionTag, match.Outcome.ToString());
        matching?.SetTag(GatewayTelemetry.RouteIdTag, match.Route?.Definition.Id);
        return match;
    }

    /// <summary>
    /// The route that would take the request if it used <paramref name="method"/> instead (e.g. the method a CORS
    /// preflight announces in <c>Access-Control-Request-Method</c>), or null.
    /// </summary>
    public CompiledRoute? FindRoute(string method)
    {
        ArgumentException.ThrowIfNullOrEmpty(method);
        var result = Snapshot.Matcher.Match(_request, method);
        return result.Outcome == RouteMatchOutcome.Matched ? result.Route : null;
    }
}
