using System.Net;
using FuncGateway.Model;
using FuncGateway.Server.Tests.Diagnostics;
using FuncGateway.Server.Tests.Infrastructure;
using FuncGateway.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace FuncGateway.Server.Tests.Transforms;

/// <summary>
/// A request or response transform that throws is a bug in the gateway, not an upstream failure: the client gets 500
/// internal_error (logged as event 3002), not the route's fallback; the request is not retried on another instance,
/// and the instance that answered keeps its circuit closed.
/// </summary>
[Collection("Azurite")]
public sealed class ThrowingTransformTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task A_throwing_response_transform_is_a_500_internal_error_with_no_retry_and_no_breaker_failure()
    {
        var capture = new TelemetryCapture();
        await using var a = await TestUpstream.StartAsync("a");
        await using var b = await TestUpstream.StartAsync("b");
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString,
            services: static services => services.AddSingleton<IRouteTransformProvider, ThrowingTransformProvider>(), logging: capture.AddTo);
        await gateway.UpsertPoolAsync("pair", [(a.BaseAddress, 1), (b.BaseAddress, 1)]);
        await gateway.UpsertRouteAsync("broken", "/broken/{**rest}", "pair");
        await gateway.UpsertRouteAsync("fine", "/fine/{**rest}", "pair");
        await gateway.ReloadAsync();

        // More than the breaker's minimum throughput (10): were these upstream failures, both circuits would open.
        for (var i = 0; i < 12; i++)
        {
            using var response = await gateway.Client.GetAsync("/broken/x");
            var problem = await Problem.AssertAsync(response, HttpStatusCode.InternalServerError, "internal_error");
            Assert.Equal("The gateway failed to handle the request.", problem.GetProperty("title").GetString());
        }

        // One upstream request per client request (no retry), and one 3002 record each, the path but no upstream detail.
        Assert.Equal(12, a.RequestCount + b.RequestCount);
        var logged = capture.Logs.Records.Where(static r => r.EventId.Id == 3002).ToList();
        Assert.Equal(12, logged.Count);
        Assert.All(logged, r => Assert.Contains("GET /broken/x", r.Message, StringComparison.Ordinal));

        // Both instances still take requests.
        for (var i = 0; i < 4; i++)
        {
            using var response = await gateway.Client.GetAsync("/fine/y");
            Assert.Equal("/fine/y", (await Echo.ReadAsync(response)).Path);
        }

        Assert.Equal(16, a.RequestCount + b.RequestCount);
    }

    [Fact]
    public async Task A_throwing_request_transform_is_a_500_internal_error_and_not_the_route_s_fallback()
    {
        var capture = new TelemetryCapture();
        await using var a = await TestUpstream.StartAsync("a");
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString,
            services: static services => services.AddSingleton<IRouteTransformProvider, ThrowingTransformProvider>(), logging: capture.AddTo);
        await gateway.UpsertUpstreamAsync("one", a.BaseAddress);
        await gateway.UpsertRouteAsync("broken-request", "/broken-request", "one", ("Fallback", """{"status":200,"body":"fallback"}"""));
        await gateway.ReloadAsync();

        using var response = await gateway.Client.GetAsync("/broken-request");

        await Problem.AssertAsync(response, HttpStatusCode.InternalServerError, "internal_error");
        Assert.Equal(0, a.RequestCount);
        Assert.Contains(capture.Logs.Records, static r => r.EventId.Id == 3002 && r.Message.Contains("GET /broken-request", StringComparison.Ordinal));
    }

    private sealed class ThrowingTransformProvider : IRouteTransformProvider
    {
        public int Order => RouteTransformOrder.Transforms;

        public void Apply(RouteTransformBuilderContext context)
        {
            switch (context.Route.Id)
            {
                case "broken":
                    context.ResponseTransforms.Add(new ThrowingTransform());
                    break;
                case "broken-request":
                    context.RequestTransforms.Add(new ThrowingRequestTransform());
                    break;
            }
        }
    }

    private sealed class ThrowingTransform : GatewayResponseTransform
    {
        public override ValueTask ApplyAsync(GatewayResponseTransformContext context) => throw new InvalidOperationException("A bug in a transform.");
    }

    private sealed class ThrowingRequestTransform : GatewayRequestTransform
    {
        public override ValueTask ApplyAsync(GatewayRequestTransformContext context) => throw new InvalidOperationException("A bug in a transform.");
    }
}
