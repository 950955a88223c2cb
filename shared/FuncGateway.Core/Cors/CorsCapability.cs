using FuncGateway.Model;
using FuncGateway.Pipeline;
using Microsoft.AspNetCore.Cors.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FuncGateway.Cors;

/// <summary>The CORS capability: the route's <c>Cors</c> property, policies under <c>FuncGateway:Cors:Policies</c>, preflights answered by the gateway.</summary>
public sealed class CorsCapability : IGatewayCapability
{
    /// <inheritdoc/>
    public IEnumerable<RegistryProperty> Properties => CorsProperties.All;

    /// <inheritdoc/>
    public void AddServices(IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<CorsSettings>()
            .BindKnownSettings(configuration.GetSection(CorsSettings.SectionName))
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<CorsSettings>, CorsSettingsValidator>();
        services.AddSingleton<CorsPolicies>();

        // The gateway's own evaluator, not the host's ICorsService registration: hosts may use ASP.NET Core CORS for
        // other endpoints with other options.
        services.AddSingleton<IGatewayPreMatchStep>(static sp => new CorsStep(
            new CorsService(Options.Create(new CorsOptions()), sp.GetRequiredService<ILoggerFactory>())));
        services.AddSingleton<IRouteFeatureCompiler, CorsRouteCompiler>();
        services.AddSingleton<IRouteTransformProvider, CorsTransformProvider>();
    }
}
