using FuncGateway.Configuration;
using Microsoft.Extensions.Hosting;

namespace FuncGateway.Discovery;

/// <summary>
/// Rebuilds the current snapshot when a discovery source's list changed (changes that arrive during a rebuild are
/// taken by the next one), and stops every source when the host stops.
/// </summary>
internal sealed class DiscoveryRefreshService(DiscoveryPools pools, GatewayRegistry registry) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var _ in pools.Changes.ReadAllAsync(stoppingToken))
            {
                await registry.RebuildAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await pools.DisposeAsync();
    }
}
