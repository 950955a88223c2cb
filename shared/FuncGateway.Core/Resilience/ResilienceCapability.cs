using FuncGateway.Diagnostics;
using FuncGateway.Model;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Polly.Telemetry;

namespace FuncGateway.Resilience;

/// <summary>The Resilience capability: its registry properties and services, registered once in <c>GatewayCapabilities</c>.</summary>
public sealed class ResilienceCapability : IGatewayCapability
{
    /// <inheritdoc/>
    public IEnumerable<RegistryProperty> Properties => ResilienceProperties.All;

    /// <inheritdoc/>
    public void AddServices(IServiceCollection services, IConfiguration configuration)
    {
        // Polly's own telemetry (its "Polly" meter) on the route retry pipelines, only where metrics are exported:
        // GatewayOpenTelemetryExtensions registers its TelemetryOptions then. Without them Polly skips its telemetry
        // wrapper on every execution. Breakers report through funcgateway.circuit.transitions (InstanceBreaker).
        services.AddSingleton<IPoolFeatureCompiler>(static sp => new CircuitBreakerPoolCompiler(
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<InstanceBreaker>>(),
            sp.GetRequiredService<GatewayTelemetry>()));
        services.AddSingleton<IRouteFeatureCompiler>(static sp => new RouteResilienceCompiler(
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<RouteResilience>>(),
            randomizer: null, sp.GetService<TelemetryOptions>()));
    }
}
