using FuncGateway.Configuration;
using FuncGateway.Forwarding;
using FuncGateway.LoadBalancing;
using FuncGateway.Model;
using static FuncGateway.Core.Tests.Configuration.RegistryRows;

namespace FuncGateway.Core.Tests.Transforms;

/// <summary>Each route compiles its ordered transform lists once, with the snapshot; bodies are buffered only when a transform asks.</summary>
public sealed class RouteTransformsTests
{
    private static GatewaySnapshot Build(IEnumerable<IRouteTransformProvider>? providers, params RegistryRow[] routes) =>
        new SnapshotBuilder(RegistryFormat.Serializer, new LoadBalancingPolicyRegistry([new RoundRobinPolicy()]), TimeSpan.FromSeconds(100),
                transformProviders: providers)
            .Build(new RegistryContent([], routes), version: 1, TimeProvider.System.GetUtcNow());

    [Fact]
    public void Providers_run_in_their_order_whatever_the_registration_order_and_each_route_gets_its_own_lists()
    {
        var late = new NamedProvider(900, "late");
        var early = new NamedProvider(10, "early", needsBodyOn: "b");
        var snapshot = Build([late, TraceContextTransformProvider.Instance, ForwardingTransformProvider.Instance, early],
            Route("a", "/a", "http://10.0.0.1"), Route("b", "/b", "http://10.0.0.1", ("StripPrefix", "/b")));

        var a = snapshot.Routes.Single(r => r.Definition.Id == "a").Transforms;
        Assert.Equal(["early", nameof(UntrustedHeadersTransform), nameof(ForwardedHeadersTransform), nameof(HostTransform), nameof(TraceContextTransform), "late"], a.Request.Select(Name));
        Assert.Equal(["early", nameof(ConnectionOptionsTransform), "late"], a.Response.Select(Name));
        Assert.False(a.BuffersResponseBody);

        var b = snapshot.Routes.Single(r => r.Definition.Id == "b").Transforms;
        Assert.Equal(["early", nameof(PathRewriteTransform), nameof(UntrustedHeadersTransform), nameof(ForwardedHeadersTransform), nameof(HostTransform), nameof(TraceContextTransform), "late"], b.Request.Select(Name));
        Assert.True(b.BuffersResponseBody);
    }

    [Fact]
    public void Without_providers_from_the_container_every_route_still_gets_the_forwarding_transforms()
    {
        var route = Assert.Single(Build(null, Route("a", "/a", "http://10.0.0.1")).Routes);
        Assert.Equal([nameof(UntrustedHeadersTransform), nameof(ForwardedHeadersTransform), nameof(HostTransform), nameof(TraceContextTransform)], route.Transforms.Request.Select(Name));
    }

    [Fact]
    public void A_provider_error_rejects_the_route()
    {
        var snapshot = Build([new NamedProvider(1, "x", errorOn: "a")], Route("a", "/a", "http://10.0.0.1"));
        Assert.Empty(snapshot.Routes);
        Assert.Contains("transform refused", Assert.Single(snapshot.Rejected).Errors);
    }

    private static string Name(object transform) => transform switch
    {
        Named named => named.Name,
        NamedResponse named => named.Name,
        _ => transform.GetType().Name,
    };

    private sealed class NamedProvider(int order, string name, string? needsBodyOn = null, string? errorOn = null) : IRouteTransformProvider
    {
        public int Order => order;

        public void Apply(RouteTransformBuilderContext context)
        {
            if (context.Route.Id == errorOn)
            {
                context.Errors.Add("transform refused");
            }

            context.RequestTransforms.Add(new Named(name));
            context.ResponseTransforms.Add(new NamedResponse(name, context.Route.Id == needsBodyOn));
        }
    }

    private sealed class Named(string name) : GatewayRequestTransform
    {
        public string Name => name;

        public override ValueTask ApplyAsync(GatewayRequestTransformContext context) => ValueTask.CompletedTask;
    }

    private sealed class NamedResponse(string name, bool needsBody) : GatewayResponseTransform
    {
        public string Name => name;

        public override bool NeedsBody => needsBody;

        public override ValueTask ApplyAsync(GatewayResponseTransformContext context) => ValueTask.CompletedTask;
    }
}
