using FuncGateway.Model;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace FuncGateway.Forwarding;

/// <summary>The Forwarding capability: its registry properties and services, registered once in <c>GatewayCapabilities</c>.</summary>
public sealed class ForwardingCapability : IGatewayCapability
{
    /// <inheritdoc/>
    public IEnumerable<RegistryProperty> Properties => ForwardingProperties.All;

    /// <inheritdoc/>
    public void AddServices(IServiceCollection services, IConfiguration configuration)
    {
        // Its services are part of the core (AddFuncGateway).
    }
}
