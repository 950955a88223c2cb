using FuncGateway.Pipeline;
using Microsoft.Extensions.Configuration;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the FuncGateway core with a host's service collection.</summary>
public static class GatewayServiceCollectionExtensions
{
    /// <summary>
    /// Adds the gateway core: options bound from the <c>FuncGateway</c> configuration section, the route registry
    /// and its background loader, the pooled forwarder and the request pipeline.
    /// </summary>
    public static IServiceCollection AddFuncGateway(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddSingleton<GatewayPipeline>();
        return services;
    }
}
