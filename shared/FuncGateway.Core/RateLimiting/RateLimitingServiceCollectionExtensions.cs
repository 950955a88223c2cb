using FuncGateway.Model;
using FuncGateway.Pipeline;
using FuncGateway.Storage;
using Azure.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
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
        services.AddSingleton<IValidateOptions<RateLimitOptions>, RateLimitOptionsValidator>();
        services.AddSingleton<IValidateOptions<RateLimitOptions>, RateLimitKeyHashValidator>();
        services.AddSingleton(static sp => new StorageClock(sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<StorageClock>>()));
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
        services.Replace(ServiceDescriptor.Singleton<IAuthenticationFailureThrottle, AuthenticationFailureThrottle>());
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
        var gateway = services.GetRequiredService<IOptions<GatewayOptions>>().Value;
        var options = services.GetRequiredService<IOptions<RateLimitOptions>>().Value;
        try
        {
            // Its own client (not the registry's): a counter operation has its own, much shorter timeout.
            var client = TableRegistryStore.CreateServiceClient(
                gateway.Storage,
                fallbackConnectionString: services.GetRequiredService<IConfiguration>()["AzureWebJobsStorage"],
                networkTimeout: TimeSpan.FromSeconds(options.OperationTimeoutSeconds),
                configure: clientOptions => clientOptions.AddPolicy(new StorageClockPolicy(services.GetRequiredService<StorageClock>()), HttpPipelinePosition.PerRetry));
            return new TableRateLimitStore(client, TableName(gateway.Storage));
        }
        catch (Exception ex) when (ex is RegistryStoreException or FormatException or ArgumentException or InvalidOperationException)
        {
            return new UnavailableRateLimitStore(ex is RegistryStoreException ? ex.Message : "The storage connection string is malformed: " + ex.GetType().Name);
        }
    }
}
