using FuncGateway.Model;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.AspNetCore.Http;

namespace FuncGateway.Diagnostics;

/// <summary>
/// The gateway's one <see cref="ActivitySource"/> and one <see cref="Meter"/>, both named <see cref="Name"/>, and every
/// span and instrument name. Both cost next to nothing when nobody listens: no activity is started unless the source
/// has listeners, child spans only under a recorded parent, and every recording checks its instrument's
/// <see cref="Instrument.Enabled"/> first.
/// </summary>
internal sealed class GatewayTelemetry : IDisposable
{
    /// <summary>The name of the activity source and of the meter.</summary>
    public const string Name = "FuncGateway";

    /// <summary>The server span of every request the pipeline handles.</summary>
    public const string RequestActivityName = "FuncGateway.Request";

    /// <summary>Child span: resolving the route against the snapshot.</summary>
    public const string RouteMatchActivityName = "FuncGateway.RouteMatch";

    /// <summary>Child span: authentication and authorization.</summary>
    public const string AuthenticationActivityName = "FuncGateway.Authenticate";

    /// <summary>Child span: the route's rate limits.</summary>
    public const string RateLimitActivityName = "FuncGateway.RateLimit";

    /// <summary>Child span (client kind): one attempt to send the request to one upstream instance.</summary>
    public const string UpstreamAttemptActivityName = "FuncGateway.UpstreamAttempt";

    /// <summary>Child span: the route's request validation.</summary>
    public const string ValidationActivityName = "FuncGateway.Validate";

    /// <summary>Child span: the response cache lookup (a hit, a 304, a coalesced wait or a miss).</summary>
    public const string CacheActivityName = "FuncGateway.CacheLookup";

    /// <summary>Child span: the route's concurrency limit.</summary>
    public const string ConcurrencyActivityName = "FuncGateway.Concurrency";

    /// <summary>
    /// Child span (of the upstream attempt): a route's response body transforms, from buffering the upstream's body
    /// to writing the transformed one.
    /// </summary>
    public const string BodyTransformActivityName = "FuncGateway.ResponseBodyTransform";

    /// <summary>Child span: the route's request body transforms (buffer, transform, once per request).</summary>
    public const string RequestBodyActivityName = "FuncGateway.RequestBody";

    /// <summary>Child span of another post-match step.</summary>
    public const string StepActivityName = "FuncGateway.Step";

    public const string RouteIdTag = "funcgateway.route.id";
    public const string StatusCodeTag = "http.response.status_code";
    public const string StatusClassTag = "http.response.status_class";
    public const string MethodTag = "http.request.method";
    public const string PoolTag = "funcgateway.pool";
    public const string InstanceTag = "funcgateway.instance";
    public const string PolicyTag = "funcgateway.policy";
    public const string DecisionTag = "funcgateway.decision";
    public const string ModeTag = "funcgateway.ratelimit.mode";
    public const string OutcomeTag = "funcgateway.outcome";
    public const string StateTag = "funcgateway.circuit.state";
    public const string TableTag = "funcgateway.table";
    public const string OperationTag = "funcgateway.table.operation";
    public const string ProblemCodeTag = "funcgateway.problem.code";
    public const string RequestIdTag = "funcgateway.request.id";
    public const string AttemptTag = "http.request.resend_count";
    public const string ErrorTypeTag = "error.type";

    /// <summary>What the post-match steps decided, as span tags (<c>Tag</c>) and access log fields (<c>Json</c>).</summary>
    public static readonly (string Tag, string Json, Func<GatewayRequestFeature, string?> Read)[] DecisionFields =
    [
        ("funcgateway.auth.policy", "authPolicy", static f => f.AuthPolicy),
        ("funcgateway.auth.outcome", "auth", static f => f.AuthOutcome),
        ("funcgateway.ratelimit.policy", "rateLimitPolicy", static f => f.RateLimitPolicy),
        ("funcgateway.ratelimit.decision", "rateLimit", static f => f.RateLimitDecision),
    ];

    // An ActivitySource has no owner to inject it from; one per process is the documented pattern.
    private static readonly ActivitySource Source = new(Name);

    private static readonly string[] StatusClasses = ["1xx", "2xx", "3xx", "4xx", "5xx"];

    /// <summary>
    /// Bucket boundaries for the durations, in seconds: the OpenTelemetry HTTP semantic conventions' boundaries for
    /// <c>http.server.request.duration</c> (5 ms to 10 s). Without them the SDK's defaults (0 to 10,000, meant for
    /// milliseconds) put every request under 5 s into one bucket.
    /// </summary>
    internal static readonly IReadOnlyList<double> SecondsBuckets = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

    private static readonly InstrumentAdvice<double> SecondsAdvice = new() { HistogramBucketBoundaries = SecondsBuckets };

    private readonly Meter _meter;

    public GatewayTelemetry(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        _meter = meterFactory.Create(Name);
        RequestDuration = _meter.CreateHistogram<double>(
            "funcgateway.request.duration", unit: "s", description: "Time from the gateway receiving a request to its response being complete.", tags: null, advice: SecondsAdvice);
        Requests = _meter.CreateCounter<long>("funcgateway.requests", unit: "{request}", description: "Requests the gateway handled.");
        UpstreamAttemptDuration = _meter.CreateHistogram<double>(
            "funcgateway.upstream.attempt.duration", unit: "s", description: "Duration of one attempt to forward a request to one upstream instance, body included.", tags: null, advice: SecondsAdvice);
        AuthOutcomes = _meter.CreateCounter<long>("funcgateway.auth.outcomes", unit: "{request}", description: "Authentication outcomes by policy.");
        RateLimitDecisions = _meter.CreateCounter<long>("funcgateway.ratelimit.decisions", unit: "{decision}", description: "Rate-limit decisions by policy and mode.");
        CircuitTransitions = _meter.CreateCounter<long>("funcgateway.circuit.transitions", unit: "{transition}", description: "Circuit breaker state changes by pool and instance.");
        TableOperationDuration = _meter.CreateHistogram<double>(
            "funcgateway.table.operation.duration", unit: "s", description: "Duration of one Table Storage request (each try) by table.", tags: null, advice: SecondsAdvice);
    }

    /// <summary>The meter, for observable instruments other folders create (instance health).</summary>
    public Meter Meter => _meter;

    /// <summary>Request duration in seconds: route id (when matched), method, status class.</summary>
    public Histogram<double> RequestDuration { get; }

    /// <summary>Request count: route id (when matched), method, status class.</summary>
    public Counter<long> Requests { get; }

    /// <summary>Upstream attempt duration in seconds: pool, instance, outcome (status class or error).</summary>
    public Histogram<double> UpstreamAttemptDuration { get; }

    /// <summary>Authentication outcomes: policy, outcome.</summary>
    public Counter<long> AuthOutcomes { get; }

    /// <summary>Rate-limit decisions: policy, mode, decision.</summary>
    public Counter<long> RateLimitDecisions { get; }

    /// <summary>Circuit breaker transitions: pool, instance, new state.</summary>
    public Counter<long> CircuitTransitions { get; }

    /// <summary>Table Storage request duration in seconds: table, operation, outcome.</summary>
    public Histogram<double> TableOperationDuration { get; }

    /// <summary>
    /// Starts the request's server span, or returns null when nobody listens or the request is not recorded. A span
    /// some other component records (the Functions worker's invocation, ASP.NET Core's instrumentation) is its parent;
    /// otherwise the client's <c>traceparent</c> is its parent when <paramref name="trustClient"/>, and only a link when
    /// not (a new trace). ASP.NET Core's own unexported request activity is never its parent.
    /// </summary>
    /// <param name="context">The request.</param>
    /// <param name="trustClient">Continue the client's trace rather than link it.</param>
    /// <param name="sampler">
    /// The gateway's sampling, when the gateway's OpenTelemetry wiring set it: a request it does not record gets no
    /// span at all, only <paramref name="unrecorded"/>. Null: the listeners decide (and create an unrecorded span).
    /// </param>
    /// <param name="unrecorded">
    /// For a request <paramref name="sampler"/> does not record: the trace context to propagate (the trace, a span id
    /// of the gateway's, not sampled, the trusted client's <c>tracestate</c>); default otherwise.
    /// </param>
    public static Activity? StartRequest(HttpContext context, bool trustClient, GatewayTraceSampler? sampler, out ActivityContext unrecorded)
    {
        unrecorded = default;
        if (!Source.HasListeners())
        {
            return null;
        }

        if (Activity.Current is { Source.Name.Length: > 0 })
        {
            return Source.StartActivity(RequestActivityName, ActivityKind.Server);
        }

        if (Activity.Current is not null)
        {
            Activity.Current = null;
        }

        var headers = context.Request.Headers;
        ActivityContext parent = default;
        ActivityLink[]? links = null;
        var traceParent = headers.TraceParent;
        if (traceParent.Count == 1 && ActivityContext.TryParse(traceParent[0], null, isRemote: true, out var client))
        {
            // The client's tracestate is read only with a valid traceparent, and only as W3C Trace Context allows it on:
            // an invalid list is dropped, a long one cut to 512 characters by whole members. No header: nothing to do.
            if (headers.TraceState.Count > 0 && TraceState.Limit(headers.TraceState) is { } state)
            {
                client = new ActivityContext(client.TraceId, client.SpanId, client.TraceFlags, state, isRemote: true);
            }

            if (trustClient)
            {
                parent = client;
            }
            else
            {
                links = [new ActivityLink(client)];
            }
        }

        if (sampler is not null)
        {
            var root = parent.TraceId == default;
            var traceId = root ? ActivityTraceId.CreateRandom() : parent.TraceId;
            if (!sampler.Records(parent, traceId, links))
            {
                unrecorded = new ActivityContext(traceId, ActivitySpanId.CreateRandom(), ActivityTraceFlags.None, parent.TraceState);
                return null;
            }

            if (root)
            {
                // A root span on the trace id just decided: a parent context without a span id gives the span that trace
                // and no parent (exporters write no parent span id), and the parent-based sampler, seeing it sampled,
                // agrees.
                parent = new ActivityContext(traceId, default, ActivityTraceFlags.Recorded);
            }
        }

        var activity = Source.StartActivity(RequestActivityName, ActivityKind.Server, parent, tags: null, links);
        if (activity is { IsAllDataRequested: true })
        {
            var request = context.Request;
            activity.DisplayName = SpanMethod(request.Method);
            activity.SetTag(MethodTag, KnownMethod(request.Method));
            activity.SetTag("url.scheme", request.Scheme);
            activity.SetTag("url.path", request.Path.Value);
            activity.SetTag("server.address", request.Host.Host);
            activity.SetTag("network.protocol.version", ProtocolVersion(request.Protocol));
        }

        return activity;
    }

    /// <summary>The W3C <c>traceparent</c> of <paramref name="trace"/>: <c>00-{trace id}-{span id}-{flags}</c>.</summary>
    public static string TraceParent(in ActivityContext trace) =>
        string.Create(55, trace, static (chars, trace) =>
        {
            Span<byte> bytes = stackalloc byte[16];
            "00-".CopyTo(chars);
            trace.TraceId.CopyTo(bytes);
            Convert.TryToHexStringLower(bytes, chars[3..], out _);
            chars[35] = '-';
            trace.SpanId.CopyTo(bytes[..8]);
            Convert.TryToHexStringLower(bytes[..8], chars[36..], out _);
            chars[52] = '-';
            var flags = (int)trace.TraceFlags & 0xFF;
            chars[53] = HexDigits[flags >> 4];
            chars[54] = HexDigits[flags & 0xF];
        });

    private const string HexDigits = "0123456789abcdef";

    /// <summary>True for a span of the gateway's own source.</summary>
    public static bool IsGatewayActivity(Activity activity) => ReferenceEquals(activity.Source, Source);

    /// <summary>A child span of the current one, only when the current one is recorded (sampled).</summary>
    public static Activity? StartChild(string name, ActivityKind kind = ActivityKind.Internal) =>
        Activity.Current is { IsAllDataRequested: true } ? Source.StartActivity(name, kind) : null;

    /// <summary>
    /// Sets a tag on the current span when it is one of the gateway's and recorded. Never on another component's activity
    /// (ASP.NET Core's request activity has <see cref="Activity.IsAllDataRequested"/> set while nobody records it).
    /// </summary>
    public static void TagCurrent(string key, object? value)
    {
        if (Activity.Current is { IsAllDataRequested: true } activity && IsGatewayActivity(activity))
        {
            activity.SetTag(key, value);
        }
    }

    /// <summary><c>2xx</c>, <c>4xx</c>...: a bounded tag for a status code.</summary>
    public static string StatusClass(int status) => status is >= 100 and < 600 ? StatusClasses[(status / 100) - 1] : "other";

    /// <summary>The method as a tag value: one of the known methods, else <c>_OTHER</c> (bounded, as the HTTP conventions say).</summary>
    public static string KnownMethod(string method) => method switch
    {
        "GET" => "GET",
        "POST" => "POST",
        "PUT" => "PUT",
        "DELETE" => "DELETE",
        "HEAD" => "HEAD",
        "OPTIONS" => "OPTIONS",
        "PATCH" => "PATCH",
        "TRACE" => "TRACE",
        "CONNECT" => "CONNECT",
        _ => OtherMethod,
    };

    /// <summary>What <see cref="KnownMethod"/> writes for a method outside the standard nine.</summary>
    public const string OtherMethod = "_OTHER";

    /// <summary>
    /// The method as a span name (or its first word): a known method, else <c>HTTP</c>, as the HTTP conventions say. A
    /// client chooses the method, and a span name is grouped on (Application Insights' operation name): it must stay bounded.
    /// </summary>
    public static string SpanMethod(string method)
    {
        var known = KnownMethod(method);
        return known == OtherMethod ? "HTTP" : known;
    }

    private static string ProtocolVersion(string protocol) => protocol switch
    {
        "HTTP/1.1" => "1.1",
        "HTTP/2" => "2",
        "HTTP/3" => "3",
        "HTTP/1.0" => "1.0",
        _ => protocol,
    };

    public void Dispose() => _meter.Dispose();
}

/// <summary>
/// Completion step: records <see cref="GatewayTelemetry.Requests"/> and <see cref="GatewayTelemetry.RequestDuration"/>
/// for every request, and finishes the request span's attributes.
/// </summary>
internal sealed class RequestMetricsCompletion(GatewayTelemetry telemetry, TimeProvider time) : IGatewayCompletion
{
    public ValueTask OnCompletedAsync(GatewayCompletionContext context)
    {
        var histogram = telemetry.RequestDuration;
        var counter = telemetry.Requests;
        if (!histogram.Enabled && !counter.Enabled)
        {
            return ValueTask.CompletedTask;
        }

        var http = context.HttpContext;
        var tags = new TagList
        {
            { GatewayTelemetry.MethodTag, GatewayTelemetry.KnownMethod(http.Request.Method) },
            { GatewayTelemetry.StatusClassTag, GatewayTelemetry.StatusClass(http.Response.StatusCode) },
        };
        if (context.Feature is { } feature)
        {
            tags.Add(GatewayTelemetry.RouteIdTag, feature.Route.Definition.Id);
        }

        counter.Add(1, tags);
        histogram.Record(time.GetElapsedTime(context.StartTimestamp).TotalSeconds, tags);
        return ValueTask.CompletedTask;
    }
}
