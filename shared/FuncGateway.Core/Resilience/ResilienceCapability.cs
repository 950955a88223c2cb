using FuncGateway.Diagnostics;
using FuncGateway.Model;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
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
        // Polly's own metrics (meter "Polly": retries, breaker events, attempt and pipeline durations). Its log lines
        // would repeat the gateway's own (ResilienceLog), so its logger is off.
        services.AddSingleton(static _ => new TelemetryOptions { LoggerFactory = NullLoggerFactory.Instance });
        services.AddSingleton<IPoolFeatureCompiler>(static sp => new CircuitBreakerPoolCompiler(
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<InstanceBreaker>>(),
            sp.GetRequiredService<GatewayTelemetry>(), sp.GetRequiredService<TelemetryOptions>()));
        services.AddSingleton<IRouteFeatureCompiler>(static sp => new RouteResilienceCompiler(
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<RouteResilience>>(),
            randomizer: null, sp.GetRequiredService<TelemetryOptions>()));
    }
}
