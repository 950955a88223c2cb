using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FuncGateway.Caching;

/// <summary>
/// Builds the shared tier when <c>FuncGateway:Cache:RedisConnectionString</c> is set (read from the options, so a host
/// may add configuration after the capability registered its services): HybridCache over StackExchange.Redis in a
/// container of its own, so the host's container holds no <see cref="HybridCache"/> unless the tier is on, with keys
/// under <c>{TablePrefix}:</c> so several gateways can share one Redis. Null tier: off.
/// </summary>
internal sealed class SharedCacheTierProvider : IDisposable
{
    private readonly ServiceProvider? _services;

    public SharedCacheTierProvider(IOptions<CacheOptions> cache, IOptions<Model.GatewayOptions> gateway, ILoggerFactory loggerFactory)
    {
        var connectionString = cache.Value.RedisConnectionString;
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            return;
        }

        var maxEntryBytes = cache.Value.MaxEntryBytes;
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton(loggerFactory);
        services.AddStackExchangeRedisCache(redis =>
        {
            redis.Configuration = connectionString;
            redis.InstanceName = gateway.Value.Storage.TablePrefix + ":";
        });
        services.AddHybridCache(hybrid =>
        {
            // An entry is at most MaxEntryBytes; its serialized form adds its key and a few bytes. Keys are hashes.
            hybrid.MaximumPayloadBytes = maxEntryBytes + (64 * 1024);
            hybrid.MaximumKeyLength = 256;
        });
        _services = services.BuildServiceProvider();
        Tier = new SharedCacheTier(_services.GetRequiredService<HybridCache>(), loggerFactory.CreateLogger<SharedCacheTier>());
    }

    /// <summary>The tier; null when no Redis connection string is set.</summary>
    public SharedCacheTier? Tier { get; }

    public void Dispose() => _services?.Dispose();
}
