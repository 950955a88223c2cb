using FuncGateway.Diagnostics;
using FuncGateway.Model;
using Microsoft.Extensions.Logging;

namespace FuncGateway.Resilience;

/// <summary>
/// Gives every instance of every pool its circuit breaker (a pool's <c>CircuitBreaker</c>, or the defaults). A
/// breaker outlives snapshots while its settings stay the same, so a reload never closes an open circuit.
/// </summary>
internal sealed class CircuitBreakerPoolCompiler(TimeProvider time, ILogger<InstanceBreaker> logger, GatewayTelemetry? telemetry = null) : IPoolFeatureCompiler
{
    public object? CompilePool(UpstreamDefinition pool, List<string> errors) =>
        CircuitBreakerSettings.Create(pool.Get(ResilienceProperties.CircuitBreaker), errors);

    public object? CompileInstance(InstanceState state, object? poolFeature)
    {
        if (poolFeature is not CircuitBreakerSettings settings)
        {
            return null;
        }

        var breaker = state.Get<InstanceBreaker>();
        if (!settings.Enabled)
        {
            breaker = InstanceBreaker.Disabled;
        }
        else if (breaker is null || breaker.Settings != settings)
        {
            breaker = new InstanceBreaker(state.Pool, state.Url, settings, time, logger, telemetry);
        }

        state.Set(breaker);
        return breaker;
    }
}

/// <summary>The circuit breaker of an instance, as resilience compiled it.</summary>
internal static class InstanceBreakerExtensions
{
    extension(UpstreamInstance instance)
    {
        /// <summary>The instance's circuit breaker (shared across snapshots while its settings stay the same).</summary>
        public InstanceBreaker Breaker => instance.GetFeature<InstanceBreaker>() ?? InstanceBreaker.Disabled;
    }
}
