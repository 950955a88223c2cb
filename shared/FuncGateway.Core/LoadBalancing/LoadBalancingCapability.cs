using FuncGateway.Model;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace FuncGateway.LoadBalancing;

/// <summary>The LoadBalancing capability: its registry properties and services, registered once in <c>GatewayCapabilities</c>.</summary>
public sealed class LoadBalancingCapability : IGatewayCapability
{
    /// <inheritdoc/>
    public IEnumerable<RegistryProperty> Properties => LoadBalancingProperties.All;

    /// <inheritdoc/>
    public void AddServices(IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton<IPoolFeatureCompiler, HashKeyPoolCompiler>();
    }
}
