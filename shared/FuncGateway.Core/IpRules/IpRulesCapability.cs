using FuncGateway.Model;
using FuncGateway.Pipeline;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace FuncGateway.IpRules;

/// <summary>The IP rules capability: per-route <c>AllowIps</c>/<c>DenyIps</c>, registered once in <c>GatewayCapabilities</c>.</summary>
public sealed class IpRulesCapability : IGatewayCapability
{
    /// <inheritdoc/>
    public IEnumerable<RegistryProperty> Properties => IpRulesProperties.All;

    /// <inheritdoc/>
    public void AddServices(IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddSingleton<IRouteFeatureCompiler, RouteIpRulesCompiler>();
        services.AddSingleton<IGatewayPreMatchStep, IpRulesStep>();
    }
}
