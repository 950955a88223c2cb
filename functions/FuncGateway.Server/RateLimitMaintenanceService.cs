using FuncGateway.RateLimiting;
using Microsoft.Extensions.Options;

namespace FuncGateway.Server;

/// <summary>
/// The server's stand-in for the Functions app's <c>RateLimitMaintenance</c> timer: deletes expired counter rows
/// every <c>FuncGateway:RateLimits:MaintenanceIntervalSeconds</c>. Several servers sharing one table may all run it;
/// deletes are idempotent and conditional on the row's ETag, so they never remove a row in use.
/// </summary>
internal sealed class RateLimitMaintenanceService(RateLimitMaintenance maintenance, IOptions<RateLimitOptions> options, TimeProvider time) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = TimeSpan.FromSeconds(options.Value.MaintenanceIntervalSeconds);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(interval, time, stoppingToken);
                await maintenance.RunOnceAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
        }
    }
}
