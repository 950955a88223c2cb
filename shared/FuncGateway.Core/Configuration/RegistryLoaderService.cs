using FuncGateway.Model;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace FuncGateway.Configuration;

/// <summary>
/// Polls the registry tables on every gateway instance. A hosted service rather than a timer function: timer
/// triggers run on one instance of a scaled-out app, but every instance needs its own fresh snapshot.
/// </summary>
internal sealed class RegistryLoaderService(GatewayRegistry registry, IOptions<GatewayOptions> options, TimeProvider time) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = TimeSpan.FromSeconds(options.Value.Registry.RefreshIntervalSeconds);
        while (!stoppingToken.IsCancellationRequested)
        {
            await registry.ReloadAsync(force: false, stoppingToken);
            try
            {
                await Task.Delay(interval, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
