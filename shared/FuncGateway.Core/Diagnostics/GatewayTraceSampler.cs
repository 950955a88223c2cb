using System.Diagnostics;
using OpenTelemetry.Trace;

namespace FuncGateway.Diagnostics;

/// <summary>
/// The gateway's trace sampling, decided before the request span exists: parent-based, with a ratio of new traces
/// (<c>FuncGateway:Telemetry:SamplingRatio</c>). The same <see cref="Sampler"/> is the OpenTelemetry SDK's, so a child
/// span or another component's decides alike. Deciding first lets the gateway skip the span of a request it does not
/// record: OpenTelemetry would create one anyway (an unrecorded <see cref="Activity"/> with fresh ids, so that the trace
/// context propagates), and that is most of what tracing at a low ratio costs a request. The gateway propagates the
/// unrecorded context itself (<see cref="GatewayTelemetry.TraceParent"/>).
/// </summary>
internal sealed class GatewayTraceSampler
{
    public GatewayTraceSampler(double ratio)
    {
        Ratio = Math.Clamp(ratio, 0, 1);
        Sampler = new ParentBasedSampler(new TraceIdRatioBasedSampler(Ratio));
    }

    /// <summary>The ratio of new traces recorded.</summary>
    public double Ratio { get; }

    /// <summary>The sampler, for the SDK's tracer provider.</summary>
    public Sampler Sampler { get; }

    /// <summary>True when the request span of <paramref name="traceId"/> under <paramref name="parent"/> (default for a new trace) is recorded.</summary>
    public bool Records(in ActivityContext parent, ActivityTraceId traceId, IEnumerable<ActivityLink>? links) =>
        Sampler.ShouldSample(new SamplingParameters(parent, traceId, GatewayTelemetry.RequestActivityName, ActivityKind.Server, tags: null, links)).Decision
            == SamplingDecision.RecordAndSample;
}
