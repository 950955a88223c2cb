using FuncGateway.Model;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace FuncGateway.Caching;

/// <summary>The response cache: a route's <c>Cache</c> property, <c>FuncGateway:Cache</c> settings, fleet-wide purges (docs/caching.md).</summary>
public sealed class CacheCapability : IGatewayCapability
{
    /// <inheritdoc/>
    public IEnumerable<RegistryProperty> Properties => CacheProperties.All;

    /// <inheritdoc/>
    public void AddServices(IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<CacheOptions>()
            .BindKnownSettings(configuration.GetSection(CacheOptions.SectionName))
            .ValidateDataAnnotations()
            .Validate(static o => o.MaxEntryBytes <= o.MaxTotalBytes, "FuncGateway:Cache:MaxEntryBytes must not be larger than FuncGateway:Cache:MaxTotalBytes.")
            .ValidateOnStart();
        services.AddSingleton<ResponseCacheStore>();
        services.AddSingleton<SharedCacheTierProvider>();
        services.AddSingleton<CacheFlights>();
        services.AddSingleton<IRouteFeatureCompiler, RouteCacheCompiler>();
        services.AddSingleton<IGatewayStep, CacheStep>();
        services.AddSingleton<IRouteTransformProvider, CacheRequestTransformProvider>();
        services.AddSingleton<IRouteTransformProvider, CacheResponseTransformProvider>();
        services.AddSingleton<IGatewayCompletion, CacheCompletion>();
        services.AddSingleton<CachePurger>();
        services.AddHostedService(static sp => sp.GetRequiredService<CachePurger>());
        services.AddSingleton<IAdminEndpoint, CachePurgeEndpoint>();
    }
}
