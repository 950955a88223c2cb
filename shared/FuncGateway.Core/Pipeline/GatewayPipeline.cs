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
/// The one entry point both hosts call for every request. The request path, in order: framing checks, client address
/// and host, the public host check (every path but the readiness probe), admin surface, route resolution against the
/// current snapshot (and whether the route takes an upgrade), the capability steps in <see cref="GatewayStepOrder"/>
/// order (authentication, rate limiting, request transforms), forwarding. Every gateway-made error is problem+json.
/// </summary>
public sealed class GatewayPipeline
{
    private readonly GatewayRegistry _registry;
    private readonly AdminEndpoints _admin;
    private readonly ClientIpResolver _clientIp;
    private readonly PublicHostPolicy _publicHosts;
    private readonly IGatewayStep[] _steps;
    private readonly ForwardingStep _forwarding;
    private readonly ILogger<GatewayPipeline> _logger;

    internal GatewayPipeline(
        GatewayRegistry registry,
        AdminEndpoints admin,
        ClientIpResolver clientIp,
        PublicHostPolicy publicHosts,
        IEnumerable<IGatewayStep> steps,
        ForwardingStep forwarding,
        ILogger<GatewayPipeline> logger)
    {
        _registry = registry;
        _admin = admin;
        _clientIp = clientIp;
        _publicHosts = publicHosts;
        _steps = [.. steps.OrderBy(static s => s.Order)];
        _forwarding = forwarding;
        _logger = logger;
    }

    /// <summary>Handles one request end to end: the response is complete when the task ends.</summary>
    public async Task InvokeAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        try
        {
            await InvokeCoreAsync(context);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away; nothing to answer.
        }
#pragma warning disable CA1031 // The last line of defence: a bug must still produce a problem response, never a hang or an HTML page.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.UnhandledException(_logger, context.Request.Method, PrintableText.Of(context.Request.Path.Value ?? ""), ex);
            await GatewayProblem.WriteAsync(context, StatusCodes.Status500InternalServerError, ProblemCodes.InternalError, "The gateway failed to handle the request.");
        }
    }

    private async Task InvokeCoreAsync(HttpContext context)
    {
        // Framing first: nothing about a request that parsers could read differently is trusted, not even its path.
        if (RequestFraming.Check(context.Request) is { } refusal)
        {
            Log.RequestRefused(_logger, refusal.Code, refusal.Detail);
            await RequestFraming.RefuseAsync(context, refusal);
            return;
        }

        RequestFraming.CloseUnlessUpgraded(context);
        var client = _clientIp.ResolveClient(context);
        var isAdmin = AdminEndpoints.IsAdminPath(context.Request.Path);

        // Before anything else looks at the request: a host the gateway does not serve never reaches routing, the
        // admin surface or an upstream. The readiness probe is exempt (load balancers probe by address).
        string? vouchedHost = null;
        if (!(isAdmin && AdminEndpoints.IsReadinessPath(context.Request.Path)) && !_publicHosts.TryAccept(client.Host, client.Scheme, out vouchedHost))
        {
            await GatewayProblem.UnknownHostAsync(context);
            return;
        }

        if (isAdmin)
        {
            await _admin.HandleAsync(context);
            return;
        }

        var snapshot = await _registry.GetSnapshotAsync(context.RequestAborted);
        if (snapshot is null)
        {
            await GatewayProblem.NoConfigurationAsync(context);
            return;
        }

        var match = snapshot.Matcher.Match(context.Request);
        switch (match.Outcome)
        {
            case RouteMatchOutcome.NotFound:
                await GatewayProblem.NotFoundAsync(context);
                return;
            case RouteMatchOutcome.MethodNotAllowed:
                await GatewayProblem.MethodNotAllowedAsync(context, match.AllowedMethods);
                return;
        }

        var isTunnel = RequestFraming.IsTunnelRequest(context);
        if (isTunnel && !match.Route!.Definition.Get(ForwardingProperties.WebSockets))
        {
            var notAllowed = new RequestRefusal(StatusCodes.Status400BadRequest, ProblemCodes.UpgradeNotAllowed,
                "This route does not accept protocol upgrades.", "The route does not enable WebSockets.");
            Log.RequestRefused(_logger, notAllowed.Code, notAllowed.Detail);
            await RequestFraming.RefuseAsync(context, notAllowed);
            return;
        }

        var feature = new GatewayRequestFeature(snapshot, match.Route!, match.Values!)
        {
            ClientAddress = client.Address,
            ClientScheme = client.Scheme,
            PublicHost = vouchedHost,
            IsTunnel = isTunnel,
        };
        context.Features.Set(feature);
        foreach (var step in _steps)
        {
            if (!await step.InvokeAsync(context, feature))
            {
                return;
            }
        }

        await _forwarding.ForwardAsync(context, feature);
    }
}
