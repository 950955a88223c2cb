using FuncGateway.Model;
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace FuncGateway.Diagnostics;

/// <summary>
/// The gateway's one <see cref="ActivitySource"/> and one <see cref="Meter"/>, both named <see cref="Name"/>. Both cost
/// next to nothing when nobody listens: <see cref="ActivitySource.StartActivity(string, ActivityKind)"/> returns null
/// and an instrument without listeners records nothing.
/// </summary>
internal sealed class GatewayTelemetry : IDisposable
{
    /// <summary>The name of the activity source and of the meter.</summary>
    public const string Name = "FuncGateway";

    /// <summary>The activity started for every request the pipeline handles.</summary>
    public const string RequestActivityName = "FuncGateway.Request";

    /// <summary>Tag: the id of the matched route.</summary>
    public const string RouteIdTag = "funcgateway.route.id";

    /// <summary>Tag: the status code sent to the client.</summary>
    public const string StatusCodeTag = "http.response.status_code";

    // An ActivitySource has no owner to inject it from; one per process is the documented pattern.
    private static readonly ActivitySource Source = new(Name);

    private readonly Meter _meter;

    public GatewayTelemetry(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        _meter = meterFactory.Create(Name);
        RequestDuration = _meter.CreateHistogram<double>(
            "funcgateway.request.duration", unit: "s", description: "Time from the gateway receiving a request to its response being complete.");
    }

    /// <summary>Request duration in seconds, tagged with route id (when matched) and status code.</summary>
    public Histogram<double> RequestDuration { get; }

    /// <summary>Starts the request's activity, or returns null when nobody listens.</summary>
    public static Activity? StartRequest() => Source.StartActivity(RequestActivityName, ActivityKind.Internal);

    public void Dispose() => _meter.Dispose();
}

/// <summary>Completion step: records <see cref="GatewayTelemetry.RequestDuration"/> for every request.</summary>
internal sealed class RequestMetricsCompletion(GatewayTelemetry telemetry, TimeProvider time) : IGatewayCompletion
{
    public ValueTask OnCompletedAsync(GatewayCompletionContext context)
    {
        var histogram = telemetry.RequestDuration;
        if (!histogram.Enabled)
        {
            return ValueTask.CompletedTask;
        }

        var tags = new TagList { { GatewayTelemetry.StatusCodeTag, context.HttpContext.Response.StatusCode } };
        if (context.Feature is { } feature)
        {
            tags.Add(GatewayTelemetry.RouteIdTag, feature.Route.Definition.Id);
        }

        histogram.Record(time.GetElapsedTime(context.StartTimestamp).TotalSeconds, tags);
        return ValueTask.CompletedTask;
    }
}
