using System.Diagnostics;
using FuncGateway.Diagnostics;
using Microsoft.AspNetCore.Http;
using OpenTelemetry;
using OpenTelemetry.Trace;

namespace FuncGateway.Core.Tests.Diagnostics;

/// <summary>
/// The gateway tags only its own recorded spans: another component's activity (ASP.NET Core creates one per request
/// that nobody records, with <see cref="Activity.IsAllDataRequested"/> set) is never tagged, and an unrecorded
/// gateway span is not tagged either. With the gateway's own sampling, a request it does not record gets no span, only
/// a trace context to propagate, and a recorded new trace is a root span on the trace id the decision was made on.
/// </summary>
public sealed class GatewayTelemetryTests
{
    [Fact]
    public void Another_components_activity_gets_no_gateway_tags()
    {
        using var hosting = new Activity("Microsoft.AspNetCore.Hosting.HttpRequestIn").Start();
        Assert.True(hosting.IsAllDataRequested);

        GatewayTelemetry.TagCurrent(GatewayTelemetry.PolicyTag, "partner_keys");

        Assert.Empty(hosting.TagObjects);
    }

    [Fact]
    public void A_recorded_gateway_span_gets_the_tag_and_an_unrecorded_one_does_not()
    {
        var sampled = true;
        using var listener = new ActivityListener
        {
            ShouldListenTo = static source => source.Name == GatewayTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => sampled ? ActivitySamplingResult.AllDataAndRecorded : ActivitySamplingResult.PropagationData,
        };
        ActivitySource.AddActivityListener(listener);

        using (var recorded = CreateRequestSpan())
        {
            GatewayTelemetry.TagCurrent(GatewayTelemetry.PolicyTag, "partner_keys");
            Assert.Equal("partner_keys", recorded.GetTagItem(GatewayTelemetry.PolicyTag));
        }

        sampled = false;
        using var unrecorded = CreateRequestSpan();
        Assert.False(unrecorded.IsAllDataRequested);
        GatewayTelemetry.TagCurrent(GatewayTelemetry.PolicyTag, "partner_keys");
        Assert.Empty(unrecorded.TagObjects);
    }

    [Fact]
    public void With_the_gateways_sampler_an_unrecorded_request_gets_no_span_only_a_trace_context_to_propagate()
    {
        // A listener that would record everything: the gateway's decision comes first and creates nothing.
        using var listener = RecordEverything();
        var context = Request();

        var activity = GatewayTelemetry.StartRequest(context, trustClient: false, new GatewayTraceSampler(0), out var unrecorded);

        Assert.Null(activity);
        Assert.Null(Activity.Current);
        Assert.NotEqual(default, unrecorded.TraceId);
        Assert.NotEqual(default, unrecorded.SpanId);
        Assert.Equal(ActivityTraceFlags.None, unrecorded.TraceFlags);
        Assert.Equal($"00-{unrecorded.TraceId.ToHexString()}-{unrecorded.SpanId.ToHexString()}-00", GatewayTelemetry.TraceParent(unrecorded));
    }

    [Fact]
    public void A_trusted_clients_unsampled_trace_is_continued_unrecorded_with_its_state()
    {
        using var listener = RecordEverything();
        var context = Request();
        context.Request.Headers.TraceParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00";
        context.Request.Headers.TraceState = "vendor=opaque";

        // Even a ratio of 1 does not record a trace its trusted parent did not sample (parent-based).
        var activity = GatewayTelemetry.StartRequest(context, trustClient: true, new GatewayTraceSampler(1), out var unrecorded);

        Assert.Null(activity);
        Assert.Equal("4bf92f3577b34da6a3ce929d0e0e4736", unrecorded.TraceId.ToHexString());
        Assert.NotEqual("00f067aa0ba902b7", unrecorded.SpanId.ToHexString());
        Assert.Equal("vendor=opaque", unrecorded.TraceState);
        Assert.StartsWith("00-4bf92f3577b34da6a3ce929d0e0e4736-", GatewayTelemetry.TraceParent(unrecorded), StringComparison.Ordinal);
        Assert.EndsWith("-00", GatewayTelemetry.TraceParent(unrecorded), StringComparison.Ordinal);
    }

    [Fact]
    public void A_recorded_new_trace_is_a_root_span_and_the_recorded_share_is_the_ratio()
    {
        // The OpenTelemetry SDK with the same sampler, as the gateway's wiring sets it up: it must agree with the
        // gateway's decision, and the decision must be taken once (deciding twice would record ratio² of the traces).
        var sampler = new GatewayTraceSampler(0.25);
        using var provider = Sdk.CreateTracerProviderBuilder().AddSource(GatewayTelemetry.Name).SetSampler(sampler.Sampler).Build();
        var recorded = 0;
        const int Requests = 4000;
        for (var i = 0; i < Requests; i++)
        {
            using var activity = GatewayTelemetry.StartRequest(Request(), trustClient: false, sampler, out var unrecorded);
            if (activity is null)
            {
                Assert.NotEqual(default, unrecorded.TraceId);
                continue;
            }

            recorded++;
            Assert.True(activity.Recorded);
            Assert.Equal(default, unrecorded);
            Assert.Equal(default, activity.ParentSpanId);
            Assert.False(activity.HasRemoteParent);
            Assert.Null(activity.Parent);
            Assert.Equal("GET", activity.DisplayName);
        }

        // Binomial(4000, 0.25): mean 1000, standard deviation 27; five of them either way.
        Assert.InRange(recorded, 1000 - 137, 1000 + 137);
    }

    [Fact]
    public void A_traceparent_is_written_in_the_w3c_format()
    {
        var trace = new ActivityContext(
            ActivityTraceId.CreateFromString("0af7651916cd43dd8448eb211c80319c"), ActivitySpanId.CreateFromString("b7ad6b7169203331"), ActivityTraceFlags.Recorded);

        Assert.Equal("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", GatewayTelemetry.TraceParent(trace));
    }

    private static ActivityListener RecordEverything()
    {
        var listener = new ActivityListener
        {
            ShouldListenTo = static source => source.Name == GatewayTelemetry.Name,
            Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(listener);
        return listener;
    }

    private static DefaultHttpContext Request()
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "GET";
        context.Request.Path = "/orders";
        return context;
    }

    private static Activity CreateRequestSpan()
    {
        var context = new Microsoft.AspNetCore.Http.DefaultHttpContext();
        context.Request.Method = "GET";
        context.Request.Path = "/orders";
        return GatewayTelemetry.StartRequest(context, trustClient: false, sampler: null, out _) ?? throw new InvalidOperationException("the listener should give the gateway a span");
    }
}
