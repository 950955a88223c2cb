using System.Diagnostics;
using FuncGateway.Admin;
using FuncGateway.Configuration;
using FuncGateway.Diagnostics;
using FuncGateway.Forwarding;
using FuncGateway.Routing;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

using FuncGateway.Model;

namespace FuncGateway.Pipeline;

/// <summary>
/// The one entry point both hosts call for every request. The request path runs in the phases of
/// <see cref="GatewayPhase"/>: the pipeline's own checks (framing, client address and host, the public host check on
/// every path but the readiness probe, the admin surface), then the pre-match steps (<see cref="IGatewayPreMatchStep"/>),
/// route resolution against the current snapshot (and whether the route takes an upgrade), the post-match steps
/// (<see cref="IGatewayStep"/>: authentication, rate limiting), forwarding (which runs the route's compiled request
/// and response transforms) and, whatever happened, the completion steps (<see cref="IGatewayCompletion"/>). Every
/// gateway-made error is problem+json.
/// </summary>
public sealed class GatewayPipeline
{
    private readonly GatewayRegistry _registry;
    private readonly AdminEndpoints _admin;
    private readonly ClientIpResolver _clientIp;
    private readonly PublicHostPolicy _publicHosts;
    private readonly IGatewayPreMatchStep[] _preMatch;
    private readonly IGatewayStep[] _steps;
    private readonly IGatewayCompletion[] _completions;
    private readonly ForwardingStep _forwarding;
    private readonly TimeProvider _time;
    private readonly ILogger<GatewayPipeline> _logger;
    private readonly bool _acceptClientRequestId;
    private readonly bool _trustClientTraceContext;
    private readonly GatewayTraceSampler? _sampler;

    internal GatewayPipeline(
        GatewayRegistry registry,
        AdminEndpoints admin,
        ClientIpResolver clientIp,
        PublicHostPolicy publicHosts,
        IEnumerable<IGatewayPreMatchStep> preMatch,
        IEnumerable<IGatewayStep> steps,
        IEnumerable<IGatewayCompletion> completions,
        ForwardingStep forwarding,
        TimeProvider time,
        ILogger<GatewayPipeline> logger,
        GatewayTelemetryOptions? telemetry = null,
        GatewayTraceSampler? sampler = null)
    {
        _registry = registry;
        _admin = admin;
        _clientIp = clientIp;
        _publicHosts = publicHosts;
        _preMatch = [.. preMatch.OrderBy(static s => s.Order)];
        _steps = [.. steps.OrderBy(static s => s.Order)];
        foreach (var step in _steps)
        {
            if (step.Order.Phase != GatewayPhase.PostMatch)
            {
                throw new InvalidOperationException($"{step.GetType().Name} declares phase {step.Order.Phase}; an IGatewayStep runs in the post-match phase.");
            }
        }

        _completions = [.. completions];
        _forwarding = forwarding;
        _time = time;
        _logger = logger;
        _acceptClientRequestId = telemetry?.AcceptClientRequestId ?? false;
        _trustClientTraceContext = telemetry?.TrustClientTraceContext ?? false;
        _sampler = sampler;
    }

    /// <summary>Handles one request end to end: the response is complete when the task ends.</summary>
    public async Task InvokeAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var started = _time.GetTimestamp();
        using var activity = GatewayTelemetry.StartRequest(context, _trustClientTraceContext || _clientIp.IsTrustedPeer(context), _sampler, out var unrecorded);
        var requestId = RequestId.Assign(context, activity, activity?.TraceId ?? unrecorded.TraceId, _acceptClientRequestId);
        using var scope = _logger.BeginScope(new RequestIdScope(requestId));
        try
        {
            if (await PrepareAsync(context, unrecorded) is { } forward)
            {
                await _forwarding.ForwardAsync(context, forward);
            }
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away; nothing to answer.
        }
#pragma warning disable CA1031 // The last line of defence: a bug must still produce a problem response, never a hang or an HTML page.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            await GatewayProblem.InternalErrorAsync(context, _logger, ex);
        }
        finally
        {
            var feature = context.Features.Get<GatewayRequestFeature>();
            if (activity is { IsAllDataRequested: true })
            {
                Tag(activity, context, feature);
            }

            await CompleteAsync(new GatewayCompletionContext(context, feature, started));
        }
    }

    /// <summary>The request span's final attributes: route, status, and what the steps decided.</summary>
    private static void Tag(Activity activity, HttpContext context, GatewayRequestFeature? feature)
    {
        var status = context.Response.StatusCode;
        activity.SetTag(GatewayTelemetry.StatusCodeTag, status);
        if (feature is not null)
        {
            var route = feature.Route.Definition;
            activity.DisplayName = GatewayTelemetry.SpanMethod(context.Request.Method) + " " + route.Path;
            activity.SetTag("http.route", route.Path);
            activity.SetTag(GatewayTelemetry.RouteIdTag, route.Id);
            activity.SetTag(GatewayTelemetry.PoolTag, feature.Route.Pool.Name);
            if (feature.Instance is { } instance)
            {
                activity.SetTag(GatewayTelemetry.InstanceTag, instance.Url);
            }

            foreach (var field in GatewayTelemetry.DecisionFields)
            {
                if (field.Read(feature) is { } value)
                {
                    activity.SetTag(field.Tag, value);
                }
            }

            if (feature.UpstreamAttempts > 0)
            {
                activity.SetTag("funcgateway.upstream.attempts", feature.UpstreamAttempts);
            }
        }

        if (context.Features.Get<GatewayProblemFeature>() is { } problem)
        {
            activity.SetTag(GatewayTelemetry.ProblemCodeTag, problem.Code);
        }

        if (status >= 500)
        {
            activity.SetTag(GatewayTelemetry.ErrorTypeTag, status.ToString(System.Globalization.CultureInfo.InvariantCulture));
            activity.SetStatus(ActivityStatusCode.Error);
        }
    }

    private async ValueTask CompleteAsync(GatewayCompletionContext completion)
    {
        foreach (var step in _completions)
        {
            try
            {
                await step.OnCompletedAsync(completion);
            }
#pragma warning disable CA1031 // A completion step observes a finished response: its failure is logged, never turned into one.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                Log.CompletionFailed(_logger, step.GetType().Name, ex);
            }
        }
    }

    /// <summary>
    /// Everything before forwarding: framing, host, admin, routing and the route's steps. Null when the request was
    /// answered here; otherwise the request's feature, to forward. Separate from forwarding so that, when it completes
    /// synchronously (the usual case), the request costs one async state machine less.
    /// </summary>
    private async ValueTask<GatewayRequestFeature?> PrepareAsync(HttpContext context, ActivityContext unrecorded)
    {
        // Framing first: nothing about a request that parsers could read differently is trusted, not even its path.
        if (RequestFraming.Check(context.Request) is { } refusal)
        {
            Log.RequestRefused(_logger, refusal.Code, refusal.Detail);
            await RequestFraming.RefuseAsync(context, refusal);
            return null;
        }

        RequestFraming.CloseUnlessUpgraded(context);
        if (EncodedPath.Check(context.Request.Path) is { } pathRefusal)
        {
            Log.RequestRefused(_logger, pathRefusal.Code, pathRefusal.Detail);
            await GatewayProblem.WriteAsync(context, pathRefusal.Status, pathRefusal.Code, pathRefusal.Title, pathRefusal.Detail);
            return null;
        }

        if (ForwardingLoop.IsLooping(context.Request))
        {
            const string Detail = "The request has passed through this gateway too many times (CDN-Loop): a route or an instance leads back to the gateway.";
            Log.RequestRefused(_logger, ProblemCodes.LoopDetected, Detail);
            await GatewayProblem.WriteAsync(context, StatusCodes.Status508LoopDetected, ProblemCodes.LoopDetected, "Forwarding loop detected.", Detail);
            return null;
        }

        var client = _clientIp.ResolveClient(context);
        var isAdmin = AdminEndpoints.IsAdminPath(context.Request.Path);

        // Before anything else looks at the request: a host the gateway does not serve never reaches routing, the
        // admin surface or an upstream. The readiness probe is exempt (load balancers probe by address).
        string? vouchedHost = null;
        if (!(isAdmin && AdminEndpoints.IsReadinessPath(context.Request.Path)) && !_publicHosts.TryAccept(client.Host, client.Scheme, out vouchedHost))
        {
            await GatewayProblem.UnknownHostAsync(context);
            return null;
        }

        // "OPTIONS *" asks about the server, not a resource: Kestrel hands it over with an empty path, which routing
        // would read as "/" and forward as "OPTIONS /". Every other request has a path that starts with "/".
        if (!context.Request.Path.HasValue && RouteMethods.IsAsteriskOptions(context))
        {
            RouteMethods.AnswerAsteriskOptions(context.Response);
            return null;
        }

        if (isAdmin)
        {
            await _admin.HandleAsync(context, client.Address);
            return null;
        }

        var snapshot = await _registry.GetSnapshotAsync(context.RequestAborted);
        if (snapshot is null)
        {
            await GatewayProblem.NoConfigurationAsync(context, _registry.RetryAfter);
            return null;
        }

        RouteMatchResult<CompiledRoute> match;
        if (_preMatch.Length == 0)
        {
            match = GatewayPreMatchContext.MatchTraced(snapshot, context.Request);
        }
        else
        {
            var preMatch = new GatewayPreMatchContext(context.Request, snapshot, client.Address, client.Scheme);
            foreach (var step in _preMatch)
            {
                if (!await step.InvokeAsync(context, preMatch))
                {
                    return null;
                }
            }

            match = preMatch.Match;
        }

        switch (match.Outcome)
        {
            case RouteMatchOutcome.NotFound:
                await GatewayProblem.NotFoundAsync(context);
                return null;
            case RouteMatchOutcome.MethodNotAllowed:
                await GatewayProblem.MethodNotAllowedAsync(context, match.AllowedMethods);
                return null;
        }

        if (AmbiguousPath.Check(snapshot.Matcher, context.Request, context.Request.Path.Value ?? "/", match.Route!, AdminEndpoints.Prefix) is { } ambiguous)
        {
            Log.RequestRefused(_logger, ambiguous.Code, ambiguous.Detail);
            await GatewayProblem.WriteAsync(context, ambiguous.Status, ambiguous.Code, ambiguous.Title, ambiguous.Detail);
            return null;
        }

        if (match.Route!.ChoosingQueryParameters.Length > 0 && context.Request.QueryString.Value is { } query && query.Contains(';'))
        {
            // Python before 3.9.2 and some Java stacks read "x=1;tier=gold" as x and tier: the route was chosen without
            // that tier, so such a ';' reaches the upstream (and every later step) as %3B.
            context.Request.QueryString = QueryStringEditor.Shield(context.Request.QueryString, match.Route!.ChoosingQueryParameters);
        }

        var isTunnel = RequestFraming.IsTunnelRequest(context);
        if (isTunnel && !match.Route!.Definition.Get(ForwardingProperties.WebSockets))
        {
            var notAllowed = new RequestRefusal(StatusCodes.Status400BadRequest, ProblemCodes.UpgradeNotAllowed,
                "This route does not accept protocol upgrades.", "The route does not enable WebSockets.");
            Log.RequestRefused(_logger, notAllowed.Code, notAllowed.Detail);
            await RequestFraming.RefuseAsync(context, notAllowed);
            return null;
        }

        var feature = new GatewayRequestFeature(match.Route!, match.Values!)
        {
            ClientAddress = client.Address,
            ClientScheme = client.Scheme,
            PublicHost = vouchedHost,
            IsTunnel = isTunnel,
            UnrecordedTrace = unrecorded,
        };
        context.Features.Set(feature);
        var plan = match.Route!.StepPlan;
        if (plan is null || !ReferenceEquals(plan.AllSteps, _steps))
        {
            var route = match.Route;
            plan = route.StepPlan = new RouteStepPlan(_steps, [.. _steps.Where(step => step.AppliesTo(route))]);
        }

        foreach (var step in plan.Steps)
        {
            using var span = GatewayTelemetry.StartChild(step.ActivityName);
            if (!await step.InvokeAsync(context, feature))
            {
                return null;
            }
        }

        if (match.Route.Responder is { } responder)
        {
            // A fixed response or a composition: the route answers by itself, after every step above.
            await responder.RespondAsync(context, feature);
            return null;
        }

        // TRACE and OPTIONS only: Max-Forwards 0 makes the gateway the final recipient (RFC 9110 §7.6.2).
        if (MaxForwards.AppliesTo(context.Request.Method) && await MaxForwards.TryAnswerAsync(context, match.Route, _logger))
        {
            return null;
        }

        return feature;
    }
}
