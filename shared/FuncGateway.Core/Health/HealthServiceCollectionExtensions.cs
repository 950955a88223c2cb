using FuncGateway.Configuration;
using FuncGateway.Model;
using FuncGateway.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FuncGateway.Health;

/// <summary>Registers load balancing state, health checking and resilience with the gateway core.</summary>
internal static class HealthServiceCollectionExtensions
{
    /// <summary>
    /// Adds what every host needs: <c>FuncGateway:Health</c> options, the per-instance state shared across snapshots,
    /// the Health table and its reader (a hosted service on every instance), the prober (run by a timer or by
    /// <c>AddFuncGatewayHealthProber</c>) and the pool compiler for health checks. Called by the health
    /// capability.
    /// </summary>
    public static IServiceCollection AddFuncGatewayResilience(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);

        services.AddOptions<HealthOptions>()
            .BindKnownSettings(configuration.GetSection(HealthOptions.SectionName))
            .ValidateDataAnnotations()
            .Validate(static o => o.LeaseSeconds >= 2 * o.ProbeTickSeconds,
                "FuncGateway:Health:LeaseSeconds must be at least twice FuncGateway:Health:ProbeTickSeconds, or the lease lapses between renewals.")
            .ValidateOnStart();

        services.AddSingleton(static sp => new HealthResults(sp.GetRequiredService<InstanceStateRegistry>()));
        services.AddSingleton<IPoolFeatureCompiler>(static sp => new HealthCheckPoolCompiler(
            sp.GetRequiredService<HealthResults>(), TimeSpan.FromSeconds(sp.GetRequiredService<IOptions<HealthOptions>>().Value.ProbeTickSeconds)));
        services.AddSingleton(static sp => CreateHealthStore(sp));
        services.AddSingleton(static sp => new HealthMonitor(
            sp.GetRequiredService<IHealthStore>(),
            sp.GetRequiredService<HealthResults>(),
            sp.GetRequiredService<IOptions<HealthOptions>>(),
            sp.GetRequiredService<IOptions<GatewayOptions>>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<HealthMonitor>>()));
        services.AddHostedService(static sp => sp.GetRequiredService<HealthMonitor>());
        services.AddHostedService<InstanceHealthMetrics>();
        services.AddSingleton(static sp => new HealthProber(
            sp.GetRequiredService<GatewayRegistry>(),
            sp.GetRequiredService<IHealthStore>(),
            sp.GetRequiredService<HealthResults>(),
            sp.GetRequiredService<IOptions<HealthOptions>>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<HealthProber>>())
        {
            StorageTimeout = TimeSpan.FromSeconds(sp.GetRequiredService<IOptions<GatewayOptions>>().Value.Registry.ReadTimeoutSeconds),
        });
        return services;
    }

    private static IHealthStore CreateHealthStore(IServiceProvider services)
    {
        var options = services.GetRequiredService<IOptions<GatewayOptions>>().Value;
        return services.GetRequiredService<GatewayTableService>().TryGetClient(out var client, out var reason)
            ? new TableHealthStore(client, options.Storage)
            : new UnavailableHealthStore(reason);
    }
}
