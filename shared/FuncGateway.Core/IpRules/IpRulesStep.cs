using FuncGateway.Diagnostics;
using FuncGateway.Model;
using FuncGateway.Pipeline;
using FuncGateway.Routing;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Net.Http.Headers;

namespace FuncGateway.IpRules;

/// <summary>
/// Applies a route's <c>AllowIps</c>/<c>DenyIps</c> to the client address the gateway resolved (the socket peer, or
/// the address a trusted proxy reported), first in the pre-match phase: a refused client gets 403 <c>ip_denied</c>
/// before any other step, so it costs no authentication work, no rate-limit counter and no CORS preflight answer.
/// A CORS preflight is also held to the rules of the route it asks about (its path with the method in
/// <c>Access-Control-Request-Method</c>). Requests no route takes (404, 405) and the admin surface are not affected.
/// </summary>
internal sealed class IpRulesStep(ILogger<IpRulesStep> logger) : IGatewayPreMatchStep
{
    /// <summary>Before every other pre-match step.</summary>
    public const int Position = -100;

    public int Order => Position;

    public async ValueTask<bool> InvokeAsync(HttpContext context, GatewayPreMatchContext match)
    {
        var route = match.Match.Outcome == RouteMatchOutcome.Matched ? match.Match.Route : null;
        var refusal = Refusal(route, match);
        if (refusal is null && IsPreflight(context.Request, out var method) && match.FindRoute(method) is { } asked && asked != route)
        {
            (route, refusal) = (asked, Refusal(asked, match));
        }

        if (refusal is null)
        {
            return true;
        }

        IpRulesLog.Denied(logger, route!.Definition.Id, match.ClientAddress?.ToString() ?? "(unknown)", refusal);
        await GatewayProblem.WriteAsync(context, StatusCodes.Status403Forbidden, IpRulesProblems.Denied,
            "The client address may not use this route.", "The route's IP rules refuse the address the request came from.");
        return false;
    }

    private static string? Refusal(CompiledRoute? route, GatewayPreMatchContext match) =>
        route?.GetFeature<RouteIpRules>()?.Refusal(match.ClientAddress);

    private static bool IsPreflight(HttpRequest request, out string method)
    {
        method = request.Headers[HeaderNames.AccessControlRequestMethod].ToString();
        return HttpMethods.IsOptions(request.Method) && method.Length > 0 && request.Headers.ContainsKey(HeaderNames.Origin);
    }
}
