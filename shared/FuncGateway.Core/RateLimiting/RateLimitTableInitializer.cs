using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FuncGateway.RateLimiting;

/// <summary>
/// Creates the counter table when the host starts, in the background: start-up never waits on storage, and a table
/// that could not be created now is created by the first counter write.
/// </summary>
internal sealed class RateLimitTableInitializer(IRateLimitStore store, ILogger<RateLimitTableInitializer> logger) : IHostedService
{
    private Task? _running;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _running = Task.Run(EnsureAsync, CancellationToken.None);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => _running is null ? Task.CompletedTask : _running.WaitAsync(cancellationToken);

    private async Task EnsureAsync()
    {
        try
        {
            await store.EnsureTableAsync();
        }
        catch (RateLimitStoreException ex)
        {
            RateLimitLog.EnsureTableFailed(logger, (store as TableRateLimitStore)?.TableName ?? "RateLimits", ex.Message);
        }
    }
}
