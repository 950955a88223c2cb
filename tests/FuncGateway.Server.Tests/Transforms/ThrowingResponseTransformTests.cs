using System.Net;
using FuncGateway.Model;
using FuncGateway.Server.Tests.Diagnostics;
using FuncGateway.Server.Tests.Infrastructure;
using FuncGateway.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace FuncGateway.Server.Tests.Transforms;

/// <summary>
/// A response transform that throws is a bug in the gateway, not an upstream failure: the client gets 500
/// internal_error (logged as event 3002), the request is not retried on another instance, and the instance that
/// answered keeps its circuit closed.
/// </summary>
[Collection("Azurite")]
public sealed class ThrowingResponseTransformTests(AzuriteFixture azurite)
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

    private sealed class ThrowingTransformProvider : IRouteTransformProvider
    {
        public int Order => RouteTransformOrder.Transforms;

        public void Apply(RouteTransformBuilderContext context)
        {
            if (context.Route.Id == "broken")
            {
                context.ResponseTransforms.Add(new ThrowingTransform());
            }
        }
    }

    private sealed class ThrowingTransform : GatewayResponseTransform
    {
        public override ValueTask ApplyAsync(GatewayResponseTransformContext context) => throw new InvalidOperationException("A bug in a transform.");
    }
}
