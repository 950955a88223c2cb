using FuncGateway.Configuration;
using FuncGateway.Model;
using FuncGateway.RateLimiting;
using FuncGateway.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace FuncGateway.Core.Tests;

/// <summary>
/// How <c>AddFuncGateway</c> composes the capabilities: each adds its own services, none replaces another's, so each
/// gateway service has exactly one registration (apart from the lists every capability adds to).
/// </summary>
public sealed class GatewayServiceCollectionTests
{
    /// <summary>Services several capabilities each add one of, consumed as a list.</summary>
    private static readonly Type[] Lists =
    [
        typeof(IPoolFeatureCompiler), typeof(IRouteTransformProvider), typeof(IGatewayCompletion),
        typeof(IGatewayStep), typeof(IRouteFeatureCompiler), typeof(ILoadBalancingPolicy), typeof(OwnedConfigurationSection),
        typeof(GatewayTableSettings), typeof(IAuthenticationFailureThrottle), typeof(FuncGateway.Pipeline.IGatewayPreMatchStep),
        typeof(IAdminEndpoint), typeof(FuncGateway.Discovery.IDiscoverySourceFactory),
    ];

    [Fact]
    public void Every_gateway_service_is_registered_once()
    {
        var services = Services();

        var twice = services
            .Where(static d => d.ServiceType.Assembly == typeof(GatewayOptions).Assembly && !Lists.Contains(d.ServiceType))
            .GroupBy(static d => d.ServiceType)
            .Where(static g => g.Count() > 1)
            .Select(static g => g.Key.Name);
        Assert.Empty(twice);
        Assert.Single(services, static d => d.ServiceType == typeof(SnapshotBuilder));
        Assert.Single(services, static d => d.ServiceType == typeof(GatewayTableService));
    }

    [Fact]
    public void Authentication_failures_are_throttled_by_the_rate_limiter_that_added_its_throttle()
    {
        var services = Services();

        var throttle = Assert.Single(services, static d => d.ServiceType == typeof(IAuthenticationFailureThrottle));
        Assert.Equal(typeof(AuthenticationFailureThrottle), throttle.ImplementationType);
    }

    [Fact]
    public async Task Without_a_throttle_everyone_may_try_and_with_several_the_strictest_wins()
    {
        Assert.Null((await AuthenticationFailureThrottles.Combine([]).CheckAsync(null, CancellationToken.None)).Wait);

        var lenient = new AuthenticationFailureThrottleStub(TimeSpan.FromSeconds(1));
        var strict = new AuthenticationFailureThrottleStub(TimeSpan.FromSeconds(30));
        var combined = AuthenticationFailureThrottles.Combine([lenient, strict, new AuthenticationFailureThrottleStub()]);
        await combined.RecordFailureAsync(null, CancellationToken.None);

        Assert.Equal(TimeSpan.FromSeconds(30), (await combined.CheckAsync(null, CancellationToken.None)).Wait);
        Assert.Equal((1, 1), (lenient.Failures, strict.Failures));
    }

    [Theory]
    [InlineData("routes")]
    [InlineData("dashboard")]
    [InlineData("Cache")]
    [InlineData("cache/purge")]
    public void A_host_cannot_map_an_admin_endpoint_a_builtin_or_a_capability_already_answers(string name)
    {
        // Capability endpoints are answered first: a host endpoint of the same name would never be reached.
        using var provider = Services().AddLogging().BuildServiceProvider();
        var endpoints = provider.GetRequiredService<FuncGateway.Admin.AdminExtensionEndpoints>();

        Assert.Throws<ArgumentException>(() => endpoints.Map(name, static _ => Task.CompletedTask));
        endpoints.Map("metrics", static _ => Task.CompletedTask);
    }

    private static ServiceCollection Services()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["FuncGateway:Storage:ConnectionString"] = "UseDevelopmentStorage=true",
        }).Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddFuncGateway(configuration);
        return services;
    }

    private sealed class AuthenticationFailureThrottleStub(TimeSpan? wait = null) : IAuthenticationFailureThrottle
    {
        public int Failures { get; private set; }

        public ValueTask<ThrottleDecision> CheckAsync(System.Net.IPAddress? client, CancellationToken cancellationToken) =>
            ValueTask.FromResult(new ThrottleDecision(wait, null));

        public ValueTask RecordFailureAsync(System.Net.IPAddress? client, CancellationToken cancellationToken)
        {
            Failures++;
            return ValueTask.CompletedTask;
        }
    }
}
