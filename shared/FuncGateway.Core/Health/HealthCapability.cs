using FuncGateway.Model;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace FuncGateway.Health;

/// <summary>The Health capability: its registry properties and services, registered once in <c>GatewayCapabilities</c>.</summary>
public sealed class HealthCapability : IGatewayCapability
{
    /// <inheritdoc/>
    public IEnumerable<RegistryProperty> Properties => HealthProperties.All;

    /// <inheritdoc/>
    public void AddServices(IServiceCollection services, IConfiguration configuration)
    {
        services.AddFuncGatewayResilience(configuration);
    }
}
