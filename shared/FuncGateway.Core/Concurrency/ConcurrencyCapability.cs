using FuncGateway.Model;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace FuncGateway.Concurrency;

/// <summary>The concurrency capability: a per-route, per-instance <c>MaxConcurrency</c>, registered once in <c>GatewayCapabilities</c>.</summary>
public sealed class ConcurrencyCapability : IGatewayCapability
{
    /// <inheritdoc/>
    public IEnumerable<RegistryProperty> Properties => ConcurrencyProperties.All;

    /// <inheritdoc/>
    public void AddServices(IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddSingleton<RouteConcurrencyLimiters>();
        services.AddSingleton<IRouteFeatureCompiler, RouteConcurrencyCompiler>();
        services.AddSingleton<IGatewayStep, ConcurrencyStep>();
        services.AddSingleton<IGatewayCompletion, ConcurrencyRelease>();
    }
}
