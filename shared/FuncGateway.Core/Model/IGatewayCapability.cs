using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace FuncGateway.Model;

/// <summary>
/// One capability of the gateway (authentication, rate limits, health checks...): the registry properties it owns
/// and the services it adds. The composition root lists the capabilities once (<c>GatewayCapabilities</c>); the
/// registry format, the CLI and the DI graph all follow that list. Adding a capability is its folder plus that line.
/// </summary>
public interface IGatewayCapability
{
    /// <summary>The route and upstream properties the capability declares, in the order registry files list them.</summary>
    IEnumerable<RegistryProperty> Properties { get; }

    /// <summary>Adds the capability's services: its <c>IRouteFeatureCompiler</c>, pipeline steps and options.</summary>
    void AddServices(IServiceCollection services, IConfiguration configuration);
}
