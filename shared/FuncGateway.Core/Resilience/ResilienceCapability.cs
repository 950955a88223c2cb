using FuncGateway.Model;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FuncGateway.Resilience;

/// <summary>The Resilience capability: its registry properties and services, registered once in <c>GatewayCapabilities</c>.</summary>
public sealed class ResilienceCapability : IGatewayCapability
{
    /// <inheritdoc/>
    public IEnumerable<RegistryProperty> Properties => ResilienceProperties.All;

    /// <inheritdoc/>
    public void AddServices(IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton<IPoolFeatureCompiler>(static sp => new CircuitBreakerPoolCompiler(sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<InstanceBreaker>>()));
        services.AddSingleton<IRouteFeatureCompiler>(static sp => new RouteResilienceCompiler(sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<RouteResilience>>()));
    }
}
