using FuncGateway;
using FuncGateway.Admin;
using FuncGateway.Configuration;
using FuncGateway.Diagnostics;
using FuncGateway.Forwarding;
using FuncGateway.LoadBalancing;
using FuncGateway.Pipeline;
using FuncGateway.Storage;
using FuncGateway.Transforms;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
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
            .Bind(configuration.GetSection(GatewayOptions.SectionName))
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
        services.AddSingleton<IRegistryStore>(static sp => CreateStore(sp, configuration: sp.GetRequiredService<IConfiguration>()));
        services.AddSingleton<GatewayRegistry>();
        services.AddSingleton<ClientIpResolver>();
        services.AddSingleton<GatewayHttpClientFactory>();
        services.AddSingleton<ForwardingStep>();
        services.AddSingleton<IRouteTransformProvider>(ForwardingTransformProvider.Instance);
        services.AddSingleton<AdminEndpoints>();
        services.AddMetrics();
        services.AddSingleton<GatewayTelemetry>();
        services.AddSingleton<IGatewayCompletion, RequestMetricsCompletion>();
        services.TryAddSingleton<IAuthenticationFailureThrottle, NoAuthenticationFailureThrottle>();
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
            sp.GetRequiredService<ILogger<GatewayPipeline>>()));

        // Every capability adds its own services (route compilers, steps, options): the list is GatewayCapabilities.
        services.AddSingleton(GatewayCapabilities.Serializer);
        foreach (var capability in GatewayCapabilities.All)
        {
            capability.AddServices(services, configuration);
        }

        services.AddSingleton(static sp => new SnapshotBuilder(
            sp.GetRequiredService<RegistrySerializer>(),
            sp.GetRequiredService<LoadBalancingPolicyRegistry>(),
            TimeSpan.FromSeconds(sp.GetRequiredService<IOptions<GatewayOptions>>().Value.Forwarding.DefaultTimeoutSeconds),
            sp.GetServices<IRouteFeatureCompiler>(),
            sp.GetRequiredService<FuncGateway.Resilience.InstanceStateRegistry>(),
            sp.GetRequiredService<UpstreamAllowlist>(),
            sp.GetServices<IRouteTransformProvider>()));

        return services;
    }

    private static IRegistryStore CreateStore(IServiceProvider services, IConfiguration configuration)
    {
        var options = services.GetRequiredService<IOptions<GatewayOptions>>().Value;
        try
        {
            var client = TableRegistryStore.CreateServiceClient(
                options.Storage,
                fallbackConnectionString: configuration["AzureWebJobsStorage"],
                networkTimeout: TimeSpan.FromSeconds(options.Registry.ReadTimeoutSeconds));
            return new TableRegistryStore(client, options.Storage);
        }
        catch (Exception ex) when (ex is RegistryStoreException or FormatException or ArgumentException or InvalidOperationException)
        {
            // Missing or malformed storage settings: start anyway, answer 503 (fail closed) and say why on every read.
            return new UnavailableRegistryStore(ex is RegistryStoreException ? ex.Message : "The storage connection string is malformed: " + ex.GetType().Name);
        }
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
