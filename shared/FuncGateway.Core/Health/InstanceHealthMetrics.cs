using System.Diagnostics.Metrics;
using FuncGateway.Configuration;
using FuncGateway.Diagnostics;
using Microsoft.Extensions.Hosting;

namespace FuncGateway.Health;

/// <summary>
/// Observable gauges over the current snapshot's pools, read only when a metrics reader collects:
/// <c>funcgateway.upstream.instance.healthy</c> (1 when the instance passes its active health check, or has none) and
/// <c>funcgateway.upstream.instance.available</c> (1 when every gate lets a request through now: healthy and circuit
/// not open), each by pool and instance. A hosted service only so that the gauges exist from start-up.
/// </summary>
internal sealed class InstanceHealthMetrics : IHostedService
{
    private readonly GatewayRegistry _registry;
    private readonly TimeProvider _time;

    public InstanceHealthMetrics(GatewayTelemetry telemetry, GatewayRegistry registry, TimeProvider time)
    {
        _registry = registry;
        _time = time;
        telemetry.Meter.CreateObservableGauge("funcgateway.upstream.instance.healthy", () => Observe(healthOnly: true),
            unit: "{instance}", description: "1 when the instance passes its active health check (or has none), else 0.");
        telemetry.Meter.CreateObservableGauge("funcgateway.upstream.instance.available", () => Observe(healthOnly: false),
            unit: "{instance}", description: "1 when the instance may take a request now (healthy, circuit not open), else 0.");
    }

    private IEnumerable<Measurement<int>> Observe(bool healthOnly)
    {
        if (_registry.Current is not { } snapshot)
        {
            yield break;
        }

        var now = _time.GetUtcNow().UtcTicks;
        foreach (var pool in snapshot.Upstreams.Values)
        {
            foreach (var instance in pool.Instances)
            {
                var up = true;
                foreach (var gate in instance.Gates)
                {
                    if ((!healthOnly || gate is HealthGate) && !gate.Allows(now))
                    {
                        up = false;
                        break;
                    }
                }

                yield return new Measurement<int>(up ? 1 : 0,
                    new KeyValuePair<string, object?>(GatewayTelemetry.PoolTag, pool.Name),
                    new KeyValuePair<string, object?>(GatewayTelemetry.InstanceTag, instance.Url));
            }
        }
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
