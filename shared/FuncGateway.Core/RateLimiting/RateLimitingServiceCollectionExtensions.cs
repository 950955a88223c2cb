using FuncGateway.Model;
using FuncGateway.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FuncGateway.RateLimiting;

/// <summary>Registers the rate limiter with the gateway core (called from <c>AddFuncGateway</c>).</summary>
internal static class RateLimitingServiceCollectionExtensions
{
    /// <summary>The counter table's name: <c>{TablePrefix}RateLimits</c>.</summary>
    public static string TableName(StorageOptions storage)
    {
        ArgumentNullException.ThrowIfNull(storage);
        return storage.TablePrefix + "RateLimits";
    }

    public static IServiceCollection AddFuncGatewayRateLimiting(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);

        services.AddOptions<RateLimitOptions>()
            .Configure(options => RateLimitOptionsReader.Read(configuration.GetSection(RateLimitOptions.SectionName), options))
            .ValidateOnStart();
        services.AddSingleton(new OwnedConfigurationSection(RateLimitOptions.SectionName));
        services.AddSingleton<IValidateOptions<RateLimitOptions>, RateLimitOptionsValidator>();
        services.AddSingleton<IValidateOptions<RateLimitOptions>, RateLimitKeyHashValidator>();
        services.AddSingleton(static sp => new StorageClock(sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<StorageClock>>()));

        // The counter table shares the gateway's table client, with its own, much shorter timeout (one counter
        // operation); its responses set the storage clock.
        services.AddSingleton(static sp => new GatewayTableSettings(
            TableName(sp.GetRequiredService<IOptions<GatewayOptions>>().Value.Storage),
            () => TimeSpan.FromSeconds(sp.GetRequiredService<IOptions<RateLimitOptions>>().Value.OperationTimeoutSeconds),
            new StorageClockPolicy(sp.GetRequiredService<StorageClock>())));
        services.AddSingleton<IRateLimitStore>(static sp => CreateStore(sp));
        services.AddSingleton(static sp => CreateKeyHasher(sp));
        services.AddSingleton(static sp => new RateLimitRuntime(
            sp.GetRequiredService<IRateLimitStore>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<IOptions<RateLimitOptions>>(),
            sp.GetRequiredService<ILogger<RateLimitRuntime>>(),
            sp.GetRequiredService<CounterKeyHasher>(),
            sp.GetRequiredService<StorageClock>()));
        services.AddSingleton<RateLimiterRegistry>();
        services.AddSingleton<IRouteFeatureCompiler, RateLimitRouteCompiler>();
        services.AddSingleton<IGatewayStep, RateLimitingStep>();
        services.AddSingleton<IAuthenticationFailureThrottle, AuthenticationFailureThrottle>();
        services.AddSingleton(static sp => new RateLimitMaintenance(
            sp.GetRequiredService<IRateLimitStore>(),
            sp.GetRequiredService<StorageClock>(),
            sp.GetRequiredService<IOptions<RateLimitOptions>>(),
            sp.GetRequiredService<ILogger<RateLimitMaintenance>>()));
        services.AddHostedService<RateLimitTableInitializer>();
        return services;
    }

    private static CounterKeyHasher CreateKeyHasher(IServiceProvider services)
    {
        var options = services.GetRequiredService<IOptions<RateLimitOptions>>().Value;
        var storage = services.GetRequiredService<IOptions<GatewayOptions>>().Value.Storage;
        var hasher = CounterKeyHasher.Create(options.KeyHashSecret, storage, services.GetRequiredService<IConfiguration>()["AzureWebJobsStorage"])

            // Start-up validation (RateLimitKeyHashValidator) says the same before any request could get here.
            ?? throw new InvalidOperationException(RateLimitKeyHashValidator.MissingSecretMessage);
        RateLimitLog.CounterKeys(services.GetRequiredService<ILogger<RateLimitRuntime>>(), hasher.Source);
        return hasher;
    }

    private static IRateLimitStore CreateStore(IServiceProvider services)
    {
        var storage = services.GetRequiredService<IOptions<GatewayOptions>>().Value.Storage;
        return services.GetRequiredService<GatewayTableService>().TryGetClient(out var client, out var reason)
            ? new TableRateLimitStore(client, TableName(storage))
            : new UnavailableRateLimitStore(reason);
    }
}
