using System.Threading.RateLimiting;
using FuncGateway.Diagnostics;
using FuncGateway.Model;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Net.Http.Headers;

namespace FuncGateway.Concurrency;

/// <summary>
/// Takes a permit of the route's concurrency limiter, last in the post-match phase (after authentication and rate
/// limits, so only requests that would otherwise be forwarded hold one). Without a free permit the request gets 503
/// <c>concurrency_limited</c> with <c>Retry-After: 1</c> at once: the limiter has no queue. The permit is given back by
/// <see cref="ConcurrencyRelease"/> when the pipeline has finished the request, however it ended (response complete,
/// client gone, upstream failed).
/// </summary>
internal sealed class ConcurrencyStep(ILogger<ConcurrencyStep> logger) : IGatewayStep
{
    /// <summary>After authentication (100) and rate limits (200).</summary>
    public static GatewayStepOrder StepOrder { get; } = new(GatewayPhase.PostMatch, 300);

    /// <summary>What <c>Retry-After</c> says: requests on a saturated route usually finish within about a second.</summary>
    public const string RetryAfterSeconds = "1";

    public GatewayStepOrder Order => StepOrder;

    public string ActivityName => GatewayTelemetry.ConcurrencyActivityName;

    public bool AppliesTo(CompiledRoute route) => route.GetFeature<RouteConcurrency>() is not null;

    public async ValueTask<bool> InvokeAsync(HttpContext context, GatewayRequestFeature feature)
    {
        var concurrency = feature.Route.GetFeature<RouteConcurrency>();
        if (concurrency is null)
        {
            return true;
        }

        var lease = concurrency.Limiter.AttemptAcquire();
        if (lease.IsAcquired)
        {
            context.Features.Set(new ConcurrencyPermit(lease));
            return true;
        }

        lease.Dispose();
        ConcurrencyLog.Limited(logger, feature.Route.Definition.Id, concurrency.Limit);
        await GatewayProblem.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, ConcurrencyProblems.Limited,
            "The route is at its concurrency limit.",
            $"The route allows {concurrency.Limit} requests in flight at once on this gateway instance; retry after {RetryAfterSeconds} s.",
            new(HeaderNames.RetryAfter, RetryAfterSeconds));
        return false;
    }
}

/// <summary>The permit a request holds while it is in flight, on <c>HttpContext.Features</c>.</summary>
internal sealed class ConcurrencyPermit(RateLimitLease lease) : IDisposable
{
    private RateLimitLease? _lease = lease;

    /// <summary>Gives the permit back (once).</summary>
    public void Dispose() => Interlocked.Exchange(ref _lease, null)?.Dispose();
}

/// <summary>Gives a request's concurrency permit back once the pipeline has finished it, whatever happened.</summary>
internal sealed class ConcurrencyRelease : IGatewayCompletion
{
    public ValueTask OnCompletedAsync(GatewayCompletionContext context)
    {
        var features = context.HttpContext.Features;
        if (features.Get<ConcurrencyPermit>() is { } permit)
        {
            features.Set<ConcurrencyPermit>(null);
            permit.Dispose();
        }

        return ValueTask.CompletedTask;
    }
}
