using System.Diagnostics;
using FuncGateway.Diagnostics;

namespace FuncGateway.Core.Tests.Diagnostics;

/// <summary>
/// The gateway tags only its own recorded spans: another component's activity (ASP.NET Core creates one per request
/// that nobody records, with <see cref="Activity.IsAllDataRequested"/> set) is never tagged, and an unrecorded
/// gateway span is not tagged either.
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

    private static Activity CreateRequestSpan()
    {
        var context = new Microsoft.AspNetCore.Http.DefaultHttpContext();
        context.Request.Method = "GET";
        context.Request.Path = "/orders";
        return GatewayTelemetry.StartRequest(context, trustClient: false) ?? throw new InvalidOperationException("the listener should give the gateway a span");
    }
}
