using FuncGateway.Model;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace FuncGateway.Resilience;

/// <summary>The Resilience capability: its registry properties and services, registered once in <c>GatewayCapabilities</c>.</summary>
public sealed class ResilienceCapability : IGatewayCapability
{
    /// <inheritdoc/>
    public IEnumerable<RegistryProperty> Properties => ResilienceProperties.All;

    /// <inheritdoc/>
    public void AddServices(IServiceCollection services, IConfiguration configuration)
    {
        services.AddFuncGatewayResilience(configuration);
    }
}
