using FuncGateway.Model;
using FuncGateway.Diagnostics;
using FuncGateway.Resilience;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;
using Yarp.ReverseProxy.Forwarder;

namespace FuncGateway.Forwarding;

/// <summary>
/// The last step: picks an instance that is healthy and whose circuit is closed, and streams the request to it
/// through YARP's forwarder on the one pooled client, inside that instance's circuit breaker and the route's retry
/// strategy (another instance, jittered backoff, a budget). Transport failures become 502, timeouts 504; nothing
/// available becomes a fast 503 with <c>Retry-After</c>, or the route's fallback. A response that has started is
/// never rewritten.
/// </summary>
internal sealed class ForwardingStep : IDisposable
{
    private const int MaxRetryAfterSeconds = 3600;

    private readonly IHttpForwarder _forwarder;
    private readonly HttpMessageInvoker _client;
    private readonly HttpMessageInvoker _upgradeClient;
    private readonly Microsoft.AspNetCore.Server.Kestrel.Core.MinDataRate? _minResponseDataRate;
    private readonly ILogger<ForwardingStep> _logger;
    private readonly long _maxRequestBodySize;
    private readonly long _maxBufferedResponseBytes;
    private readonly TimeProvider _time;
    private readonly RouteResilience _defaults;
    private readonly GatewayTelemetry? _telemetry;

    // One transformer per request: the route's transforms plus the attempt's hold-back decision.
    private readonly Func<ForwardAttempt, HttpTransformer> _createTransformer;

    public ForwardingStep(IHttpForwarder forwarder, GatewayHttpClientFactory clientFactory, IOptions<GatewayOptions> options, ILogger<ForwardingStep> logger, TimeProvider time, GatewayTelemetry? telemetry = null)
    {
        _telemetry = telemetry;
        _forwarder = forwarder;
        _client = clientFactory.CreateClient();
        _upgradeClient = clientFactory.CreateUpgradeClient();
        _logger = logger;
        _time = time;
        var forwarding = options.Value.Forwarding;
        _maxRequestBodySize = forwarding.MaxRequestBodySizeBytes;
        _maxBufferedResponseBytes = forwarding.MaxBufferedResponseBytes;
        _createTransformer = attempt => new ResilientHttpTransformer(attempt, _maxBufferedResponseBytes, _logger);
        _minResponseDataRate = forwarding.MinResponseDataRate();

        // For routes compiled without the resilience compiler (tools, tests): the documented defaults.
        _defaults = new RouteResilience("(defaults)", RetrySettings.Default, null, time, logger);
    }

    public async Task ForwardAsync(HttpContext context, GatewayRequestFeature feature)
    {
        // Refuse an announced oversized body before touching the upstream; a chunked one is cut by the server's limit.
        // A route may set its own limit (Validation maxBodyBytes), above or below the global one.
        var maxRequestBodySize = feature.MaxRequestBodySizeBytes ?? _maxRequestBodySize;
        if (context.Request.ContentLength > maxRequestBodySize)
        {
            await GatewayProblem.RequestTooLargeAsync(context, maxRequestBodySize);
            return;
        }

        var sizeFeature = context.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (sizeFeature is { IsReadOnly: false })
        {
            sizeFeature.MaxRequestBodySize = maxRequestBodySize;
            if (LooksLikeGrpc(context.Request))
            {
                // YARP lifts the body limit of an HTTP/2 request that says it is gRPC once it goes to an HTTP/2
                // upstream (it treats it as an endless stream); a client would only have to send that Content-Type
                // to pass any limit. The limit set here stays.
                context.Features.Set<IHttpMaxRequestBodySizeFeature>(new KeptMaxRequestBodySize(sizeFeature));
            }
        }

        // A client that reads the response too slowly is cut off; that aborts the request, which cancels the upstream
        // request and closes its connection. (Kestrel HTTP/1.x; upgraded connections are exempt by design.)
        if (context.Features.Get<IHttpMinResponseDataRateFeature>() is { } rateFeature)
        {
            rateFeature.MinDataRate = _minResponseDataRate;
        }

        // The attempts are awaited here rather than through SendAsync: one async state machine less per request.
        var attempts = StartAttempts(context, feature, out var attempt, out var resilienceContext);
        AttemptResult result;
        try
        {
            result = ResultOf(await attempts);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(resilienceContext);
        }

        await RespondAsync(context, attempt, result);
    }

    /// <summary>
    /// Sends the request to its route's pool as every forwarded request is sent: balancing over the instances that
    /// are healthy and whose circuit is closed, each attempt inside its instance's breaker, the route's retries, the
    /// upstream-attempt span and metrics, the route's transforms; the response goes to <paramref name="context"/>'s.
    /// Also used for the parts of a composition (with a context of their own). Writes no error response.
    /// </summary>
    internal async Task<(ForwardAttempt Attempt, AttemptResult Result)> SendAsync(HttpContext context, GatewayRequestFeature feature)
    {
        var attempts = StartAttempts(context, feature, out var attempt, out var resilienceContext);
        try
        {
            return (attempt, ResultOf(await attempts));
        }
        finally
        {
            ResilienceContextPool.Shared.Return(resilienceContext);
        }
    }

    /// <summary>Starts the request's attempts; the caller awaits them and returns <paramref name="resilienceContext"/> to its pool.</summary>
    private ValueTask<Outcome<AttemptResult>> StartAttempts(HttpContext context, GatewayRequestFeature feature, out ForwardAttempt attempt, out ResilienceContext resilienceContext)
    {
        var resilience = feature.Route.GetFeature<RouteResilience>() ?? _defaults;
        var client = feature.IsTunnel ? _upgradeClient : _client;
        attempt = new ForwardAttempt(_forwarder, client, _time, context, feature, resilience, _createTransformer, _telemetry);
        resilience.Budget.OnRequest();
        resilienceContext = ResilienceContextPool.Shared.Get(resilience.RouteId, context.RequestAborted);

        // Retries only ever go to an instance the request has not tried (ForwardAttempt.ShouldRetry), so a pool of one
        // instance never retries: its requests skip the retry pipeline (one async layer and its allocation less), and
        // the attempt, which only the retry strategy's callbacks read from the context, is not stored in it.
        if (attempt.Pool.AllInstances.Length == 1)
        {
            return attempt.RunAsync(resilienceContext);
        }

        resilienceContext.Properties.Set(RouteResilience.AttemptKey, attempt);
        return resilience.Pipeline.ExecuteOutcomeAsync(static (rc, state) => state.RunAsync(rc), resilienceContext, attempt);
    }

    private static AttemptResult ResultOf(Outcome<AttemptResult> outcome)
    {
        outcome.ThrowIfException();
        return outcome.Result!;
    }

    private async Task RespondAsync(HttpContext context, ForwardAttempt attempt, AttemptResult result)
    {
        var routeId = attempt.Feature.Route.Definition.Id;
        var fallback = attempt.Resilience.Fallback;
        if (result.Outcome == AttemptOutcome.NoInstance && attempt.LastSent is { } sent)
        {
            // Tried and failed, and nothing left to try: the failure is the answer.
            result = sent;
        }

        // A copy the gateway still holds (the cache's stale entry) beats the route's fallback and an error.
        if (attempt.Feature.FailureResponse is { } substitute && IsUpstreamFailure(result) && !context.Response.HasStarted
            && !context.RequestAborted.IsCancellationRequested && await substitute.TryWriteAsync(context))
        {
            return;
        }

        // The upstream's own answer, held back for a retry that got nothing better, beats the fallback and an error.
        if (attempt.ShouldWriteHeldBack(result))
        {
            await attempt.WriteHeldBackAsync();
            return;
        }

        switch (result.Outcome)
        {
            case AttemptOutcome.Completed when result.Error == ForwarderError.None:
                return;
            case AttemptOutcome.NoInstance:
                ResilienceLog.NoInstanceAvailable(_logger, routeId, attempt.Pool.Name);
                if (fallback is not null)
                {
                    await ServeFallbackAsync(context, routeId, fallback);
                    return;
                }

                await GatewayProblem.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, ProblemCodes.NoUpstreamAvailable,
                    "No upstream instance is available for this route.",
                    "Every instance is failing its health checks or has its circuit open; try again after the Retry-After delay.",
                    new("Retry-After", RetryAfterSeconds(attempt.Pool).ToString(System.Globalization.CultureInfo.InvariantCulture)));
                return;
            case AttemptOutcome.HeldBack:
                // A held-back 5xx whose retry got nothing and whose answer was not kept (a body over
                // HeldBackResponse.MaxBodyBytes), or the client left.
                if (fallback is not null && !context.Response.HasStarted)
                {
                    await ServeFallbackAsync(context, routeId, fallback);
                    return;
                }

                await GatewayProblem.WriteAsync(context, StatusCodes.Status502BadGateway, ProblemCodes.UpstreamError,
                    "The upstream failed to handle the request.", $"Every instance tried answered {attempt.HeldBackStatus}.");
                return;
            case AttemptOutcome.Failed when fallback is not null && !context.Response.HasStarted && !context.RequestAborted.IsCancellationRequested
                && result.Error != ForwarderError.RequestCreation:
                await ServeFallbackAsync(context, routeId, fallback);
                return;
        }

        await HandleErrorAsync(context, routeId, attempt.LastDestination ?? "", result.Error);
    }

    /// <summary>
    /// The upstream (not the client, nor the gateway building its request) failed: nothing reachable, a timeout, a
    /// transport error, a held-back 5xx.
    /// </summary>
    private static bool IsUpstreamFailure(AttemptResult result) => result.Outcome switch
    {
        AttemptOutcome.NoInstance or AttemptOutcome.HeldBack => true,
        AttemptOutcome.Completed or AttemptOutcome.Failed => result.Error is not (ForwarderError.None or ForwarderError.RequestCreation or ForwarderError.RequestBodyClient
            or ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled or ForwarderError.ResponseBodyCanceled
            or ForwarderError.UpgradeRequestCanceled or ForwarderError.UpgradeResponseCanceled or ForwarderError.ResponseBodyClient),
        _ => false,
    };

    private Task ServeFallbackAsync(HttpContext context, string routeId, StaticResponse fallback)
    {
        ResilienceLog.FallbackServed(_logger, routeId, fallback.Status);
        return fallback.WriteAsync(context);
    }

    /// <summary>Seconds until an instance of the pool may take requests again: the shortest remaining break or probe interval.</summary>
    internal int RetryAfterSeconds(UpstreamPool pool)
    {
        var now = _time.GetUtcNow().UtcTicks;
        TimeSpan? soonest = null;
        foreach (var instance in pool.AllInstances)
        {
            var wait = instance.RetryAfter(now);
            if (soonest is null || wait < soonest)
            {
                soonest = wait;
            }
        }

        var seconds = Math.Ceiling((soonest ?? TimeSpan.FromSeconds(5)).TotalSeconds);
        return (int)Math.Clamp(seconds, 1, MaxRetryAfterSeconds);
    }

    private async Task HandleErrorAsync(HttpContext context, string routeId, string destination, ForwarderError error)
    {
        var exception = context.Features.Get<IForwarderErrorFeature>()?.Exception;
        if (context.RequestAborted.IsCancellationRequested || error is ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled
            or ForwarderError.ResponseBodyCanceled or ForwarderError.UpgradeRequestCanceled or ForwarderError.UpgradeResponseCanceled)
        {
            Log.ClientAborted(_logger, routeId, error.ToString());
            return;
        }

        if (context.Response.HasStarted)
        {
            // The upstream's status and headers are already with the client: all that is left is to end the stream.
            Log.ForwardingFailedAfterStart(_logger, routeId, error.ToString(), exception);
            return;
        }

        if (error == ForwarderError.RequestBodyClient)
        {
            switch (BodyRejection(exception))
            {
                case StatusCodes.Status413PayloadTooLarge:
                    await GatewayProblem.RequestTooLargeAsync(context, context.Features.Get<GatewayRequestFeature>()?.MaxRequestBodySizeBytes ?? _maxRequestBodySize);
                    return;
                case StatusCodes.Status408RequestTimeout:
                    // Below the server's minimum request body data rate (a body trickled in, or announced and never sent).
                    Log.ClientAborted(_logger, routeId, "RequestBodyTooSlow");
                    await GatewayProblem.RequestBodyTooSlowAsync(context);
                    return;
                case StatusCodes.Status400BadRequest or StatusCodes.Status431RequestHeaderFieldsTooLarge:
                    // The server could not parse the body (a malformed chunk or chunk size, an over-long chunk extension,
                    // trailers over the header limit). Whatever
                    // had reached the upstream is a truncated message: its connection was closed with the failed send.
                    var refusal = RequestFraming.MalformedBody();
                    Log.RequestRefused(_logger, refusal.Code, refusal.Detail);
                    await RequestFraming.RefuseAsync(context, refusal);
                    return;
            }

            Log.ClientAborted(_logger, routeId, error.ToString());
            await GatewayProblem.WriteAsync(context, StatusCodes.Status400BadRequest, ProblemCodes.BadRequest,
                "The request body could not be read from the client.");
            return;
        }

        if (error == ForwarderError.UpgradeResponseClient && exception is InvalidOperationException
            && context.Features.Get<IHttpUpgradeFeature>() is { IsUpgradableRequest: true })
        {
            // The upstream accepted the upgrade and the server refused to upgrade the client's connection: the only
            // reason it has is its limit of upgraded connections (Kestrel:Limits:MaxConcurrentUpgradedConnections).
            Log.TunnelLimitReached(_logger, routeId);
            await GatewayProblem.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, ProblemCodes.TunnelLimitReached,
                "The gateway holds as many WebSocket connections as it may.", "Try again later.");
            return;
        }

        if (error == ForwarderError.RequestCreation && exception is not null)
        {
            // The upstream request could not be built (a request transform threw): nothing was sent, the bug is the gateway's.
            await GatewayProblem.InternalErrorAsync(context, _logger, exception);
            return;
        }

        var (status, code, title) = error switch
        {
            _ when ForwardAttempt.IsUnreachable(error, exception) => (StatusCodes.Status502BadGateway, ProblemCodes.UpstreamUnreachable, "The upstream could not be reached."),
            ForwarderError.RequestTimedOut => (StatusCodes.Status504GatewayTimeout, ProblemCodes.UpstreamTimeout, "The upstream did not answer in time."),
            _ => (StatusCodes.Status502BadGateway, ProblemCodes.UpstreamError, "The upstream failed to handle the request."),
        };
        Log.ForwardingFailed(_logger, routeId, destination, error.ToString(), status, exception);
        await GatewayProblem.WriteAsync(context, status, code, title);
    }

    /// <summary>
    /// The status the server gave a request body it refused to read (<see cref="BadHttpRequestException"/>), or 400 for
    /// a chunk size too large to parse (Kestrel reports that as an <see cref="IOException"/> over an
    /// <see cref="OverflowException"/>); null when the body failed otherwise (the client went away).
    /// </summary>
    private static int? BodyRejection(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is BadHttpRequestException bad)
            {
                return bad.StatusCode;
            }

            if (e is IOException { InnerException: OverflowException })
            {
                return StatusCodes.Status400BadRequest;
            }
        }

        return null;
    }

    /// <summary>
    /// What YARP takes for a streaming gRPC request (HTTP/2 or later and a <c>Content-Type</c> of <c>application/grpc</c>
    /// or <c>application/grpc+…</c>): this test is wider (any type that starts so), never narrower. HTTP/1.x costs one compare.
    /// </summary>
    private static bool LooksLikeGrpc(HttpRequest request) =>
        !HttpProtocol.IsHttp11(request.Protocol) && !HttpProtocol.IsHttp10(request.Protocol)
        && request.ContentType is { } type && type.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// The server's body-size feature with its limit fixed: the limit the gateway set is enforced by the server, and a
    /// later attempt to change it (YARP's, for gRPC) is ignored.
    /// </summary>
    private sealed class KeptMaxRequestBodySize(IHttpMaxRequestBodySizeFeature inner) : IHttpMaxRequestBodySizeFeature
    {
        public bool IsReadOnly => inner.IsReadOnly;

        public long? MaxRequestBodySize
        {
            get => inner.MaxRequestBodySize;
            set { }
        }
    }

    public void Dispose()
    {
        _client.Dispose();
        _upgradeClient.Dispose();
    }
}
