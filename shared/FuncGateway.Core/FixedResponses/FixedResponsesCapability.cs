using FuncGateway.Model;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace FuncGateway.FixedResponses;

/// <summary>
/// Fixed responses: a route that answers with a configured status, headers and body instead of forwarding (the
/// counterpart of an Azure Functions Proxies mock). Registered once in <c>GatewayCapabilities</c>.
/// </summary>
public sealed class FixedResponsesCapability : IGatewayCapability
{
    /// <inheritdoc/>
    public IEnumerable<RegistryProperty> Properties => FixedResponseProperties.All;

    /// <inheritdoc/>
    public void AddServices(IServiceCollection services, IConfiguration configuration) =>
        services.AddSingleton<IRouteFeatureCompiler>(FixedResponseCompiler.Instance);
}
