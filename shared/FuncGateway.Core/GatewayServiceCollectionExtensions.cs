using FuncGateway.Health;
using FuncGateway;
using FuncGateway.Admin;
using FuncGateway.Configuration;
using FuncGateway.Diagnostics;
using FuncGateway.Discovery;
using FuncGateway.Forwarding;
using FuncGateway.LoadBalancing;
using FuncGateway.Model;
using FuncGateway.Pipeline;
using FuncGateway.Routing;
using FuncGateway.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the FuncGateway core with a host's service collection.</summary>
public static class GatewayServiceCollectionExtensions
{
    /// <summary>
    /// Adds the gateway core: options bound from the <c>FuncGateway</c> configuration section (validated at start),
    /// the route registry and its background loader, the pooled forwarder and the request pipeline.
    /// </summary>
    public static IServiceCollection AddFuncGateway(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);

        services.AddOptions<GatewayOptions>()
            .BindKnownSettings(configuration.GetSection(GatewayOptions.SectionName))
            .ValidateDataAnnotations()
            .Validate(static o => TryParseProxies(o.ForwardedHeaders.TrustedProxies),
                "FuncGateway:ForwardedHeaders:TrustedProxies must be a comma-separated list of IP addresses or CIDR ranges.")
            .ValidateOnStart();

        services.AddLogging();
        services.AddHttpForwarder();
        services.AddRouting();
        services.AddHostedService<RegistryLoaderService>();
        services.AddSingleton(TimeProvider.System);

        services.AddSingleton<IValidateOptions<GatewayOptions>, ForwardingOptionsValidator>();

        services.AddSingleton<ILoadBalancingPolicy, RoundRobinPolicy>();
        services.AddSingleton(static sp => new LoadBalancingPolicyRegistry(sp.GetServices<ILoadBalancingPolicy>()));
        services.AddSingleton(static sp => UpstreamAllowlist.Parse(sp.GetRequiredService<IOptions<GatewayOptions>>().Value.Forwarding.AllowedUpstreams, []));
        services.AddSingleton<PublicHostPolicy>();
        services.AddSingleton<GatewayTableService>();
        services.AddSingleton<IRegistryStore>(static sp => CreateStore(sp));

        // One validator and compiler of snapshots, with what every capability contributes: its route compilers, and
        // the per-instance state (breakers, health) that outlives snapshots.
        services.AddSingleton<InstanceStateRegistry>();
        services.AddSingleton(GatewayCapabilities.Serializer);
        services.AddSingleton(static sp => new SnapshotBuilder(
            sp.GetRequiredService<RegistrySerializer>(),
            sp.GetRequiredService<LoadBalancingPolicyRegistry>(),
            TimeSpan.FromSeconds(sp.GetRequiredService<IOptions<GatewayOptions>>().Value.Forwarding.DefaultTimeoutSeconds),
            sp.GetServices<IRouteFeatureCompiler>(),
            sp.GetRequiredService<InstanceStateRegistry>(),
            sp.GetRequiredService<UpstreamAllowlist>(),
            sp.GetServices<IPoolFeatureCompiler>(),
            sp.GetServices<IRouteTransformProvider>(),
            sp.GetServices<IRegistryTableCompiler>(),
            sp.GetServices<IRouteFilter>(),
            sp.GetService<FunctionsHostRules>() is null ? ReservedPathHandling.Warn : ReservedPathHandling.Reject));
        services.AddSingleton<GatewayRegistry>();
        services.AddSingleton<ClientIpResolver>();
        services.AddSingleton<GatewayHttpClientFactory>();
        services.AddSingleton<ForwardingStep>();
        services.AddSingleton<IRouteTransformProvider>(ForwardingTransformProvider.Instance);
        services.AddSingleton<IRouteTransformProvider>(static sp => new TraceContextTransformProvider(sp.GetRequiredService<IOptions<GatewayOptions>>().Value.Telemetry.ForwardBaggage));
        services.AddSingleton(static sp => new AdminExtensionEndpoints(sp.GetServices<IAdminEndpoint>().Select(static e => e.Name)));
        services.AddSingleton<AdminKeyFailures>();
        services.AddSingleton<AdminEndpoints>();
        services.AddSingleton(static sp => new HealthReport(
            sp.GetRequiredService<GatewayRegistry>(),
            sp.GetRequiredService<FuncGateway.Health.HealthMonitor>(),
            sp.GetRequiredService<FuncGateway.Health.HealthProber>(),
            sp.GetRequiredService<TimeProvider>()));
        services.AddMetrics();
        services.AddSingleton<GatewayTelemetry>();
        services.AddSingleton<IGatewayCompletion, RequestMetricsCompletion>();
        AddAccessLog(services);
        FuncGateway.Dashboard.DashboardEndpoints.AddServices(services);
        services.AddSingleton(static sp => new GatewayPipeline(
            sp.GetRequiredService<GatewayRegistry>(),
            sp.GetRequiredService<AdminEndpoints>(),
            sp.GetRequiredService<ClientIpResolver>(),
            sp.GetRequiredService<PublicHostPolicy>(),
            sp.GetServices<IGatewayPreMatchStep>(),
            sp.GetServices<IGatewayStep>(),
            sp.GetServices<IGatewayCompletion>(),
            sp.GetRequiredService<ForwardingStep>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<GatewayPipeline>>(),
            sp.GetRequiredService<IOptions<GatewayOptions>>().Value.Telemetry,
            sp.GetService<GatewayTraceSampler>()));

        // Every capability adds its own services (route and pool compilers, steps, options): the list is GatewayCapabilities.
        foreach (var capability in GatewayCapabilities.All)
        {
            capability.AddServices(services, configuration);
        }

        // Discovery sources the pool's Discovery property can name (docs/discovery-consul-kubernetes.md).
        services.AddConsulAndKubernetesDiscovery(configuration);

        return services;
    }

    /// <summary>
    /// Applies the Azure Functions host's rules to the registry: routes under the paths the host keeps for itself
    /// (<c>/admin</c>, <c>/runtime/webhooks</c>) are rejected with the reason and listed at <c>/_gateway/rejected</c>,
    /// instead of being served with a logged warning as on Kestrel. For the Functions app only.
    /// </summary>
    public static IServiceCollection AddFuncGatewayFunctionsHostRules(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddSingleton<FunctionsHostRules>();
        return services;
    }

    /// <summary>
    /// Adds the background prober of <c>FuncGateway.Server</c>: one instance of the fleet (the holder of a lease row in
    /// the Health table) probes every pool with a health check. Not for the Functions app, whose timer function probes.
    /// </summary>
    public static IServiceCollection AddFuncGatewayHealthProber(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddHostedService(static sp => new HealthProbeService(
            sp.GetRequiredService<HealthProber>(),
            sp.GetRequiredService<IHealthStore>(),
            sp.GetRequiredService<IOptions<HealthOptions>>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<HealthProbeService>>()));
        return services;
    }

    /// <summary>
    /// The access log's completion step and sink, chosen from <c>FuncGateway:Telemetry:AccessLog</c> when first
    /// resolved (the console sink's writer task only starts when it is chosen). Off: the step does nothing.
    /// </summary>
    private static void AddAccessLog(IServiceCollection services)
    {
        services.AddSingleton<IGatewayCompletion>(static sp =>
        {
            var mode = sp.GetRequiredService<IOptions<GatewayOptions>>().Value.Telemetry.AccessLog;
            IAccessLogSink? sink = mode switch
            {
                AccessLogMode.Console => new ConsoleAccessLogSink(),
                AccessLogMode.Logger => new LoggerAccessLogSink(sp.GetRequiredService<ILoggerFactory>()),
                _ => null,
            };
            return new AccessLogCompletion(sink, sp.GetRequiredService<TimeProvider>());
        });
    }

    /// <summary>Marks a container as the Functions app's (see <see cref="AddFuncGatewayFunctionsHostRules"/>).</summary>
    private sealed class FunctionsHostRules;

    private static IRegistryStore CreateStore(IServiceProvider services)
    {
        var options = services.GetRequiredService<IOptions<GatewayOptions>>().Value;
        return services.GetRequiredService<GatewayTableService>().TryGetClient(out var client, out var reason)
            ? new TableRegistryStore(client, options.Storage)
            : new UnavailableRegistryStore(reason);
    }

    private static bool TryParseProxies(string? value)
    {
        try
        {
            ClientIpResolver.ParseNetworks(value);
            return true;
        }
        catch (OptionsValidationException)
        {
            return false;
        }
    }
}
