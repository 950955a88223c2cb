using FuncGateway.Diagnostics;
using FuncGateway.Forwarding;
using FuncGateway.Pipeline;
using FuncGateway.Routing;
using Microsoft.AspNetCore.Cors.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace FuncGateway.Cors;

/// <summary>
/// CORS in the pre-match phase, so that it comes before every post-match step (authentication, rate limits, any
/// later early reject):
/// <list type="bullet">
/// <item>A <b>preflight</b> (<c>OPTIONS</c> with <c>Origin</c> and <c>Access-Control-Request-Method</c>) whose path
/// and announced method find a route with a <c>Cors</c> policy is answered here: 204, never forwarded, authenticated or
/// counted, with the policy's values when the origin is allowed and no <c>Access-Control-Allow-*</c> header when it is
/// not, and <c>Vary: Origin, Access-Control-Request-Method, Access-Control-Request-Headers</c> either way. The route
/// need not list <c>OPTIONS</c>. A preflight that finds no CORS route goes on as any other request.</item>
/// <item>On an <b>actual request</b> to a CORS route, the gateway's CORS headers are set as the response starts, so
/// that they are on every response of the route: the upstream's (whose own <c>Access-Control-*</c> headers
/// <see cref="CorsResponseTransform"/> removed) and the gateway's own problems (401, 429, 502...), which a page can
/// then read. <c>Vary: Origin</c> is always added, allowed or not.</item>
/// </list>
/// The policy is evaluated by ASP.NET Core's <see cref="ICorsService"/>.
/// </summary>
internal sealed class CorsStep(ICorsService cors) : IGatewayPreMatchStep
{
    public const string PreflightVary = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers";

    public int Order => 0;

    public ValueTask<bool> InvokeAsync(HttpContext context, GatewayPreMatchContext match)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(match);
        var request = context.Request;
        var origin = request.Headers.Origin;
        if (HttpMethods.IsOptions(request.Method) && !StringValues.IsNullOrEmpty(origin)
            && request.Headers.TryGetValue(CorsConstants.AccessControlRequestMethod, out var requested) && requested.Count == 1 && requested[0] is { Length: > 0 } method)
        {
            if (match.FindRoute(method)?.GetFeature<RouteCors>() is { } preflight)
            {
                AnswerPreflight(context, preflight.Policy, origin);
                return ValueTask.FromResult(false);
            }

            return ValueTask.FromResult(true);
        }

        var result = match.Match;
        if (result.Outcome == RouteMatchOutcome.Matched && result.Route!.GetFeature<RouteCors>() is { } routeCors)
        {
            var evaluated = StringValues.IsNullOrEmpty(origin) ? null : cors.EvaluatePolicy(context, routeCors.Policy.Policy);
            var admitted = evaluated is not null && routeCors.Policy.Admits(evaluated, origin) ? evaluated : null;
            context.Response.OnStarting(static state =>
            {
                var (ctx, service, allowed) = ((HttpContext, ICorsService, CorsResult?))state;
                ApplyActual(ctx.Response, service, allowed);
                return Task.CompletedTask;
            }, (context, cors, admitted));

            // Browsers apply no CORS to a WebSocket: any page may open one with the user's cookies. The policy's
            // origins are the ones that may; a client that sends no Origin is no browser and goes on.
            if (admitted is null && !StringValues.IsNullOrEmpty(origin) && RequestFraming.IsTunnelRequest(context))
            {
                return RefuseOriginAsync(context);
            }
        }

        return ValueTask.FromResult(true);
    }

    private static async ValueTask<bool> RefuseOriginAsync(HttpContext context)
    {
        await GatewayProblem.WriteAsync(context, StatusCodes.Status403Forbidden, ProblemCodes.OriginNotAllowed,
            "The route's CORS policy does not admit this origin.", "A WebSocket is opened only from an origin the route's Cors policy allows.");
        return false;
    }

    private void AnswerPreflight(HttpContext context, GatewayCorsPolicy policy, StringValues origin)
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status204NoContent;
        var result = cors.EvaluatePolicy(context, policy.Policy);
        if (policy.Admits(result, origin))
        {
            result.VaryByOrigin = false;
            cors.ApplyResult(result, response);
        }

        response.Headers.Vary = PreflightVary;
    }

    private static void ApplyActual(HttpResponse response, ICorsService cors, CorsResult? admitted)
    {
        if (admitted is not null)
        {
            admitted.VaryByOrigin = false;
            cors.ApplyResult(admitted, response);
        }

        // Whatever else varies (the upstream's Vary stays), the answer depends on Origin: shared caches must not serve
        // one origin's answer to another.
        if (!VariesByOrigin(response.Headers.Vary))
        {
            response.Headers.Append(HeaderNames.Vary, HeaderNames.Origin);
        }
    }

    private static bool VariesByOrigin(StringValues vary)
    {
        foreach (var value in vary)
        {
            foreach (var item in (value ?? "").Split(',', StringSplitOptions.TrimEntries))
            {
                if (item == "*" || item.Equals(HeaderNames.Origin, StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
            }
        }

        return false;
    }
}
