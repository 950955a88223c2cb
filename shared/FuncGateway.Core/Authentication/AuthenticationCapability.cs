using FuncGateway.Model;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace FuncGateway.Authentication;

/// <summary>The Authentication capability: its registry properties and services, registered once in <c>GatewayCapabilities</c>.</summary>
public sealed class AuthenticationCapability : IGatewayCapability
{
    /// <inheritdoc/>
    public IEnumerable<RegistryProperty> Properties => AuthProperties.All;

    /// <inheritdoc/>
    public void AddServices(IServiceCollection services, IConfiguration configuration)
    {
        AuthenticationServiceCollectionExtensions.AddGatewayIdentity(services, configuration);
    }
}
