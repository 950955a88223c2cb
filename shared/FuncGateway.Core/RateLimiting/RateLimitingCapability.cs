using FuncGateway.Model;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace FuncGateway.RateLimiting;

/// <summary>The RateLimiting capability: its registry properties and services, registered once in <c>GatewayCapabilities</c>.</summary>
public sealed class RateLimitingCapability : IGatewayCapability
{
    /// <inheritdoc/>
    public IEnumerable<RegistryProperty> Properties => RateLimitProperties.All;

    /// <inheritdoc/>
    public void AddServices(IServiceCollection services, IConfiguration configuration)
    {
        RateLimitingServiceCollectionExtensions.AddFuncGatewayRateLimiting(services, configuration);
    }
}
