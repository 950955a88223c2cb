using System.Text.Json;
using FuncGateway.RateLimiting;
using Microsoft.Extensions.DependencyInjection;

namespace FuncGateway.Functions.Tests;

/// <summary>The timer that deletes expired rate-limit counters: its metadata, its DI graph, and a direct invocation.</summary>
public sealed class RateLimitMaintenanceFunctionTests
{
    [Fact]
    public void The_maintenance_function_is_a_timer_every_five_minutes()
    {
        using var metadata = FunctionsBuildOutput.ReadJson("functions.metadata");
        var function = Assert.Single(metadata.RootElement.EnumerateArray(), f => f.GetProperty("name").GetString() == RateLimitMaintenanceFunction.Name);

        Assert.Equal(
            $"{typeof(RateLimitMaintenanceFunction).FullName}.{nameof(RateLimitMaintenanceFunction.RunAsync)}",
            function.GetProperty("entryPoint").GetString());
        var trigger = Assert.Single(function.GetProperty("bindings").EnumerateArray(),
            b => string.Equals(b.GetProperty("type").GetString(), "timerTrigger", StringComparison.OrdinalIgnoreCase));
        Assert.Equal("0 */5 * * * *", trigger.GetProperty("schedule").GetString());
        Assert.Equal(JsonValueKind.String, trigger.GetProperty("direction").ValueKind);
    }

    [Fact]
    public async Task The_function_runs_the_core_maintenance_and_survives_unreachable_storage()
    {
        // Nothing listens on port 1: the run fails to reach storage, logs it and ends normally.
        using var host = FunctionsAppHost.Build(["--FuncGateway:Storage:ConnectionString=DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;TableEndpoint=http://127.0.0.1:1/devstoreaccount1;",
            "--FuncGateway:RateLimits:OperationTimeoutSeconds=1"]);
        using var invocation = host.Services.CreateScope();
        var function = ActivatorUtilities.CreateInstance<RateLimitMaintenanceFunction>(invocation.ServiceProvider);

        await function.RunAsync(null!, CancellationToken.None);

        Assert.NotNull(host.Services.GetRequiredService<RateLimitMaintenance>());
    }
}
