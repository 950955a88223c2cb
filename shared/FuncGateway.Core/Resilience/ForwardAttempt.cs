using System.Diagnostics;
using FuncGateway.Diagnostics;
using FuncGateway.Model;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.CircuitBreaker;
using Yarp.ReverseProxy.Forwarder;

namespace FuncGateway.Resilience;

/// <summary>
/// One request's way through its pool: which instances it tried and how each attempt ended. Owns the request's
/// transformer (forwarding's <c>ResilientHttpTransformer</c>, made by the factory it is given), which asks it whether a retryable 5xx may be held back; the
/// retry strategy asks it whether another instance is worth a try.
/// </summary>
internal sealed class ForwardAttempt
{
    private readonly IHttpForwarder _forwarder;
    private readonly HttpMessageInvoker _client;
    private readonly TimeProvider _time;
    private readonly GatewayTelemetry? _telemetry;
    // The instances this request was sent to: the first in a field (most requests make one attempt), more in a list.
    private UpstreamInstance? _firstTried;
    private List<UpstreamInstance>? _moreTried;
    private int _attempts;
    private int _sends;
    private bool _canHoldBack;
    private bool _refused;

    // The last retryable 5xx kept from the client to try another instance; the answer when no instance gives a better one.
    private HeldBackResponse? _heldBack;

    // The status the instance answered with on this attempt, before any response transform mapped it.
    private int? _upstreamStatus;

    public ForwardAttempt(
        IHttpForwarder forwarder, HttpMessageInvoker client, TimeProvider time, HttpContext context, GatewayRequestFeature feature, RouteResilience resilience,
        Func<ForwardAttempt, HttpTransformer> createTransformer, GatewayTelemetry? telemetry = null)
    {
        _telemetry = telemetry;
        _forwarder = forwarder;
        _client = client;
        _time = time;
        Context = context;
        Feature = feature;
        Resilience = resilience;
        var request = context.Request;
        IsIdempotent = IsIdempotentMethod(request.Method);
        HasBody = context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody
                  ?? (request.ContentLength > 0 || request.Headers.TransferEncoding.Count > 0);
        Transformer = createTransformer(this);
    }

    /// <summary>The request's transformer: the route's transforms, and the hold-back decision through this attempt.</summary>
    public HttpTransformer Transformer { get; }

    public HttpContext Context { get; }

    public GatewayRequestFeature Feature { get; }

    public RouteResilience Resilience { get; }

    public UpstreamPool Pool => Feature.Route.Pool;

    /// <summary>The method may be repeated without changing the outcome (RFC 9110 §9.2.2).</summary>
    public bool IsIdempotent { get; }

    /// <summary>The request carries a body, which can be read from the client only once.</summary>
    public bool HasBody { get; }

    /// <summary>The status of a 5xx response that was held back to try another instance.</summary>
    public int? HeldBackStatus { get; private set; }

    /// <summary>The URL of the instance the last attempt went to.</summary>
    public string? LastDestination { get; private set; }

    /// <summary>The last attempt that reached an instance (null when none did).</summary>
    public AttemptResult? LastSent { get; private set; }

    public static bool IsIdempotentMethod(string method) =>
        HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method) || HttpMethods.IsTrace(method)
        || HttpMethods.IsPut(method) || HttpMethods.IsDelete(method);

    /// <summary>
    /// One attempt: picks an available instance this request has not tried and forwards through its breaker. A
    /// circuit that refuses (a half-open probe is already running) sent nothing, so the next instance is picked at once.
    /// </summary>
    public async ValueTask<Outcome<AttemptResult>> RunAsync(ResilienceContext resilienceContext)
    {
        _attempts++;
        while (true)
        {
            var instance = PickInstance();
            if (instance is null)
            {
                return Outcome.FromResult(AttemptResult.NoInstance);
            }

            if (_firstTried is null)
            {
                _firstTried = instance;
            }
            else
            {
                (_moreTried ??= new List<UpstreamInstance>(2)).Add(instance);
            }
            _canHoldBack = Resilience.Retry.RetryOnStatus.Count > 0 && IsIdempotent && !HasBody
                && _attempts <= Resilience.Retry.MaxRetries && CountUntried() > 0;

            var outcome = await instance.Breaker.Pipeline.ExecuteOutcomeAsync(
                static (_, state) => state.Attempt.SendAsync(state.Instance), resilienceContext, (Attempt: this, Instance: instance));
            if (outcome.Exception is BrokenCircuitException)
            {
                continue;
            }

            if (outcome.Exception is null)
            {
                LastSent = outcome.Result;
            }

            return outcome;
        }
    }

    /// <summary>Whether the retry strategy tries again after <paramref name="result"/> (attempt number 0-based).</summary>
    public bool ShouldRetry(AttemptResult result, int attemptNumber)
    {
        if (!result.Retryable || attemptNumber >= Resilience.Retry.MaxRetries || Context.RequestAborted.IsCancellationRequested)
        {
            return false;
        }

        if (result.Outcome == AttemptOutcome.HeldBack)
        {
            // Its retry was paid for when the response was held back.
            return true;
        }

        if (CountUntried() == 0)
        {
            return false;
        }

        if (!Resilience.Budget.TryWithdraw())
        {
            ResilienceLog.RetryBudgetExhausted(Log, Resilience.RouteId, result.Error.ToString(), LastDestination ?? "");
            return false;
        }

        return true;
    }

    /// <summary>
    /// Called by the response transformer: keeps a retryable 5xx from the client when another instance can be tried,
    /// with its headers and body when they fit in memory, to be the answer if no other instance gives one
    /// (<see cref="WriteHeldBackAsync"/>).
    /// </summary>
    public async ValueTask<bool> TryHoldBackAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var status = (int)response.StatusCode;
        if (!_canHoldBack || !Resilience.Retry.RetryOnStatus.Contains(status) || !Resilience.Budget.TryWithdraw())
        {
            return false;
        }

        HeldBackStatus = status;

        // A body too large to keep still gets its retry; only that answer cannot be given if the retry gets nothing.
        _heldBack = await HeldBackResponse.TryKeepAsync(Feature.Instance!, response, cancellationToken) ?? _heldBack;
        return true;
    }

    /// <summary>
    /// Whether the client should get the 5xx held back from an instance: no later attempt produced an answer (no
    /// instance was left, or the retry could not connect, broke or timed out) and nothing has been written yet.
    /// </summary>
    public bool ShouldWriteHeldBack(AttemptResult result) =>
        _heldBack is not null && result.Outcome is AttemptOutcome.HeldBack or AttemptOutcome.Failed or AttemptOutcome.NoInstance
        && !Context.Response.HasStarted && !Context.RequestAborted.IsCancellationRequested;

    /// <summary>
    /// Writes the held-back response to the client as if it had been passed on when it came: the instance's status,
    /// headers and body, through the route's response transforms.
    /// </summary>
    public async Task WriteHeldBackAsync()
    {
        var held = _heldBack!;
        var response = held.Take();
        _canHoldBack = false;
        Context.Response.Clear();
        Context.Features.Set<IForwarderErrorFeature>(null);
        Feature.Instance = held.Instance;
        LastDestination = held.Instance.Url;

        // As YARP does before its transformer sees the response.
        Context.Response.StatusCode = held.Status;
        if (response.ReasonPhrase is { } reason && reason != Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(held.Status))
        {
            Context.Features.Get<IHttpResponseFeature>()!.ReasonPhrase = reason;
        }

        var cancellationToken = Context.RequestAborted;
        using (response)
        {
            if (await Transformer.TransformResponseAsync(Context, response, cancellationToken))
            {
                await response.Content.CopyToAsync(Context.Response.Body, cancellationToken);
            }
        }
    }

    /// <summary>Called by the response transformer with the instance's own status, before a route's transforms may map it.</summary>
    public void RecordUpstreamStatus(int status)
    {
        _upstreamStatus = status;
        Feature.Instance?.Breaker.OnResponseHeaders(status);
    }

    /// <summary>Called by the transformer when the gateway refused the upstream's response (too large to buffer) and answered itself.</summary>
    public void MarkRefused() => _refused = true;

    /// <summary>
    /// The instances that may take the request now: available and not tried yet, and of those only the ones with the
    /// lowest priority value (instances of a higher value are fall-backs). The pool's own list when that is all of them,
    /// else the pool's list for that subset (<see cref="UpstreamPool.Subset"/>; a new array for pools over 64 instances).
    /// </summary>
    public IReadOnlyList<UpstreamInstance> Available()
    {
        var now = _time.GetUtcNow().UtcTicks;
        var all = Pool.AllInstances;

        // One pass: the lowest priority value among the candidates, and how many candidates have it.
        var count = 0;
        var preferred = int.MaxValue;
        foreach (var instance in all)
        {
            if (!IsCandidate(instance, now) || instance.Priority > preferred)
            {
                continue;
            }

            if (instance.Priority < preferred)
            {
                preferred = instance.Priority;
                count = 0;
            }

            count++;
        }

        if (count == 0)
        {
            return [];
        }

        if (count == all.Length)
        {
            return all;
        }

        if (all.Length <= 64)
        {
            // The pool's list for this subset: the same object every request while the subset stays, so a partial
            // outage allocates nothing per request and the policy finds its state for it by reference.
            var mask = 0UL;
            for (var i = 0; i < all.Length; i++)
            {
                if (all[i].Priority == preferred && IsCandidate(all[i], now))
                {
                    mask |= 1UL << i;
                }
            }

            return mask == 0 ? [] : Pool.Subset(mask);
        }

        // A breaker another request trips may change an instance's answer between the passes: never write past the
        // count, and return only what was filled.
        var available = new UpstreamInstance[count];
        var filled = 0;
        foreach (var instance in all)
        {
            if (filled < available.Length && instance.Priority == preferred && IsCandidate(instance, now))
            {
                available[filled++] = instance;
            }
        }

        return filled == available.Length ? available : available[..filled];
    }

    private UpstreamInstance? PickInstance()
    {
        var available = Available();
        return available.Count == 0 ? null : Pool.Policy.PickInstance(Context, Pool, available);
    }

    private int CountUntried()
    {
        var now = _time.GetUtcNow().UtcTicks;
        var count = 0;
        foreach (var instance in Pool.AllInstances)
        {
            if (IsCandidate(instance, now))
            {
                count++;
            }
        }

        return count;
    }

    private bool IsCandidate(UpstreamInstance instance, long now) => instance.IsAvailable(now) && !WasTried(instance);

    private bool WasTried(UpstreamInstance instance) =>
        ReferenceEquals(instance, _firstTried) || (_moreTried is not null && _moreTried.Contains(instance));

    private async ValueTask<Outcome<AttemptResult>> SendAsync(UpstreamInstance instance)
    {
        var response = Context.Response;
        if (_sends++ > 0)
        {
            // A previous attempt failed or was held back before anything reached the client: start clean.
            response.Clear();
            Context.Features.Set<IForwarderErrorFeature>(null);
        }

        HeldBackStatus = null;
        _upstreamStatus = null;
        Feature.Instance = instance;
        Feature.UpstreamAttempts = _sends;
        LastDestination = instance.Url;

        // The attempt's span is current while YARP sends: the trace context transform makes it the upstream's parent.
        using var span = StartSpan(instance);
        var started = _time.GetTimestamp();
        Interlocked.Increment(ref instance.State.Outstanding);
        ForwarderError error;
        try
        {
            error = await _forwarder.SendAsync(Context, instance.Url, _client, Feature.Route.RequestConfig, Transformer);
        }
#pragma warning disable CA1031 // Handed to Polly as an outcome and rethrown by the forwarding step.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Observe(span, instance, started, ex.GetType().Name);
            return Outcome.FromException<AttemptResult>(ex);
        }
        finally
        {
            Interlocked.Decrement(ref instance.State.Outstanding);
        }

        Observe(span, instance, started, error == ForwarderError.None
            ? GatewayTelemetry.StatusClass(HeldBackStatus ?? Context.Response.StatusCode)
            : error.ToString());
        return Outcome.FromResult(Classify(error, instance));
    }

    private Activity? StartSpan(UpstreamInstance instance)
    {
        var span = GatewayTelemetry.StartChild(GatewayTelemetry.UpstreamAttemptActivityName, ActivityKind.Client);
        if (span is not null)
        {
            span.DisplayName = GatewayTelemetry.SpanMethod(Context.Request.Method);
            span.SetTag(GatewayTelemetry.MethodTag, GatewayTelemetry.KnownMethod(Context.Request.Method));
            span.SetTag(GatewayTelemetry.PoolTag, Pool.Name);
            span.SetTag(GatewayTelemetry.InstanceTag, instance.Url);
            span.SetTag(GatewayTelemetry.RouteIdTag, Feature.Route.Definition.Id);
            if (_sends > 1)
            {
                span.SetTag(GatewayTelemetry.AttemptTag, _sends - 1);
            }
        }

        return span;
    }

    /// <summary>The attempt's duration (metric, and the request's upstream time) and its outcome: a status class or an error name.</summary>
    private void Observe(Activity? span, UpstreamInstance instance, long started, string outcome)
    {
        var elapsed = _time.GetElapsedTime(started);
        Feature.UpstreamTime += elapsed;
        if (span is not null)
        {
            string? errorType = outcome;
            if (outcome.Length == 3 && outcome[1] == 'x')
            {
                // The upstream answered (a held-back 5xx never reached the client, but it is what this attempt got).
                var status = HeldBackStatus ?? Context.Response.StatusCode;
                span.SetTag(GatewayTelemetry.StatusCodeTag, status);
                errorType = status >= 500 ? status.ToString(System.Globalization.CultureInfo.InvariantCulture) : null;
                if (HeldBackStatus is not null)
                {
                    span.SetTag(GatewayTelemetry.DecisionTag, "held_back");
                }
            }

            if (errorType is not null)
            {
                span.SetTag(GatewayTelemetry.ErrorTypeTag, errorType);
                span.SetStatus(ActivityStatusCode.Error);
            }
        }

        if (_telemetry?.UpstreamAttemptDuration is { Enabled: true } histogram)
        {
            histogram.Record(elapsed.TotalSeconds,
                new KeyValuePair<string, object?>(GatewayTelemetry.PoolTag, Pool.Name),
                new KeyValuePair<string, object?>(GatewayTelemetry.InstanceTag, instance.Url),
                new KeyValuePair<string, object?>(GatewayTelemetry.OutcomeTag, outcome));
        }
    }

    private AttemptResult Classify(ForwarderError error, UpstreamInstance instance)
    {
        if (HeldBackStatus is not null)
        {
            return new AttemptResult(AttemptOutcome.HeldBack, ForwarderError.None, CountsAsFailure: true, Retryable: true);
        }

        if (_refused)
        {
            // The instance answered; the gateway refused the answer (and said so to the client): no failure, no retry.
            return new AttemptResult(AttemptOutcome.Completed, ForwarderError.None, CountsAsFailure: false, Retryable: false);
        }

        var started = Context.Response.HasStarted;
        if (Context.RequestAborted.IsCancellationRequested || IsClientError(error))
        {
            // Says nothing about the upstream; only a half-open probe that never finished is better counted as failed.
            return new AttemptResult(AttemptOutcome.Completed, error, instance.Breaker.State == CircuitState.HalfOpen, Retryable: false);
        }

        if (error == ForwarderError.None)
        {
            // The instance's own status counts, not the one a route's status mapping (Transforms) gave the client.
            return new AttemptResult(AttemptOutcome.Completed, error, (_upstreamStatus ?? Context.Response.StatusCode) >= 500, Retryable: false);
        }

        var exception = Context.Features.Get<IForwarderErrorFeature>()?.Exception;
        var resendable = !started && IsIdempotent && !HasBody;
        var retryable = error switch
        {
            // Nothing was sent when the connection could not be made, whatever the method: safe to send elsewhere.
            ForwarderError.Request => !started && (IsConnectFailure(exception) || resendable),
            ForwarderError.RequestTimedOut => !started && (IsConnectTimeout(exception) || (resendable && Resilience.Retry.RetryOnTimeout)),
            ForwarderError.ResponseHeaders => resendable,
            _ => false,
        };
        var countsAsFailure = error != ForwarderError.RequestCreation;
        return new AttemptResult(started ? AttemptOutcome.Completed : AttemptOutcome.Failed, error, countsAsFailure, retryable);
    }

    private static bool IsClientError(ForwarderError error) => error is ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled
        or ForwarderError.RequestBodyClient or ForwarderError.ResponseBodyCanceled or ForwarderError.ResponseBodyClient
        or ForwarderError.UpgradeRequestCanceled or ForwarderError.UpgradeResponseCanceled or ForwarderError.UpgradeRequestClient
        or ForwarderError.UpgradeResponseClient;

    /// <summary>
    /// No connection to the instance could be made (refused, DNS, TLS, connect timeout): unreachable, as opposed to an
    /// upstream that was connected to and then broke the exchange. YARP reports a connect timeout as a timeout and both
    /// of the others as a failed request; the exception tells them apart.
    /// </summary>
    internal static bool IsUnreachable(ForwarderError error, Exception? exception) => error switch
    {
        ForwarderError.Request => IsConnectFailure(exception),
        ForwarderError.RequestTimedOut => IsConnectTimeout(exception),
        _ => false,
    };

    internal static bool IsConnectFailure(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError or HttpRequestError.SecureConnectionError })
            {
                return true;
            }

            if (e is AggregateException aggregate)
            {
                return aggregate.InnerExceptions.Any(IsConnectFailure);
            }
        }

        return false;
    }

    /// <summary>SocketsHttpHandler reports its connect timeout as a cancellation wrapping a TimeoutException.</summary>
    internal static bool IsConnectTimeout(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is TimeoutException)
            {
                return true;
            }
        }

        return false;
    }

    private ILogger Log => Resilience.Logger;
}
