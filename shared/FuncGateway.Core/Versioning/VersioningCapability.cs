using FuncGateway.Model;
using FuncGateway.Pipeline;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace FuncGateway.Versioning;

/// <summary>
/// API versioning: the route properties <c>VersionSet</c> and <c>ApiVersion</c>, version sets under
/// <c>FuncGateway:Versioning:Sets</c>, versions matched from the path, a header, the query or <c>Accept</c>.
/// </summary>
public sealed class VersioningCapability : IGatewayCapability
{
    /// <inheritdoc/>
    public IEnumerable<RegistryProperty> Properties => VersioningProperties.All;

    /// <inheritdoc/>
    public void AddServices(IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<VersioningSettings>()
            .BindKnownSettings(configuration.GetSection(VersioningSettings.SectionName))
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<VersioningSettings>, VersioningSettingsValidator>();
        services.AddSingleton<ApiVersionSets>();
        services.AddSingleton<IRouteFeatureCompiler, ApiVersionRouteCompiler>();
        services.AddSingleton<IGatewayPreMatchStep, VersioningStep>();
        services.AddSingleton<IRouteTransformProvider, VersionHeaderTransformProvider>();
    }
}
