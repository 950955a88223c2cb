using FuncGateway.Model;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace FuncGateway.Composition;

/// <summary>
/// Response aggregation: a route whose answer is composed from several upstream requests (<c>Composition</c>),
/// made in parallel or in dependency order, merged into one JSON response. Registered once in <c>GatewayCapabilities</c>.
/// </summary>
public sealed class CompositionCapability : IGatewayCapability
{
    /// <inheritdoc/>
    public IEnumerable<RegistryProperty> Properties => CompositionProperties.All;

    /// <inheritdoc/>
    public void AddServices(IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton<CompositionRunner>();
        services.AddSingleton<IRouteFeatureCompiler>(static sp => new CompositionCompiler(sp.GetRequiredService<CompositionRunner>(), sp.GetRequiredService<TimeProvider>()));
    }
}
