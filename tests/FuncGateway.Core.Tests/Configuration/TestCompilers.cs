using FuncGateway.Health;
using FuncGateway.LoadBalancing;
using FuncGateway.Model;
using FuncGateway.Resilience;
using Microsoft.Extensions.Logging.Abstractions;

namespace FuncGateway.Core.Tests.Configuration;

/// <summary>The pool compilers the gateway registers (hash keys, health checks, circuit breakers), for snapshot builders in tests.</summary>
internal static class TestCompilers
{
    public static IPoolFeatureCompiler[] Pools(InstanceStateRegistry states, TimeProvider? time = null, HealthResults? results = null) =>
    [
        new HashKeyPoolCompiler(),
        new HealthCheckPoolCompiler(results ?? new HealthResults(states)),
        new CircuitBreakerPoolCompiler(time ?? TimeProvider.System, NullLogger<InstanceBreaker>.Instance),
    ];
}
