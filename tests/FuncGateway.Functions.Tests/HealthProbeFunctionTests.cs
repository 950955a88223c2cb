using FuncGateway.Health;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.DependencyInjection;

namespace FuncGateway.Functions.Tests;

/// <summary>The timer function that probes upstream health, created and invoked as the worker would.</summary>
public sealed class HealthProbeFunctionTests
{
    [Fact]
    public async Task The_health_probe_function_is_created_from_the_worker_s_services_and_runs_a_round()
    {
        // No storage and no snapshot: the round finds nothing to probe and must still end, not throw.
        using var host = FunctionsAppHost.Build(["--FuncGateway:Registry:StartupWaitSeconds=0"]);
        using var invocation = host.Services.CreateScope();
        var function = ActivatorUtilities.CreateInstance<HealthProbeFunction>(invocation.ServiceProvider);

        await function.RunAsync(new TimerInfo(), CancellationToken.None);

        Assert.NotNull(host.Services.GetRequiredService<HealthProber>());
    }

    [Fact]
    public void The_functions_app_reads_health_on_every_instance_but_leaves_probing_to_the_timer()
    {
        // Resolving the hosted services would start the worker's gRPC client, so the registrations are inspected.
        IServiceCollection? services = null;
        using var host = FunctionsAppHost.Build(afterConfigureServices: builder => services = builder.Services);

        var hosted = services!.Where(d => d.ServiceType == typeof(Microsoft.Extensions.Hosting.IHostedService))
            .Select(d => (d.ImplementationType ?? d.ImplementationFactory?.Method.ReturnType ?? d.ImplementationInstance?.GetType())?.Name)
            .ToList();

        Assert.Contains("HealthMonitor", hosted);
        Assert.DoesNotContain("HealthProbeService", hosted);
    }
}
