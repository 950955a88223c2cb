using System.Diagnostics;
using System.Globalization;
using FuncGateway.Authentication.ApiKeys;
using FuncGateway.Health;
using FuncGateway.RateLimiting;
using FuncGateway.Storage;
using FuncGateway.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace FuncGateway.Core.Tests.Storage;

/// <summary>
/// Every table is reached through one shared client, yet each keeps what it had with a client of its own: the
/// counter table its short timeout and the storage clock, every other table the registry's read timeout; missing
/// settings still make every store fail closed. The storage service is a local Kestrel server.
/// </summary>
public sealed class GatewayTableServiceTests
{
    private const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    [Fact]
    public async Task Counter_operations_keep_their_own_timeout_on_the_shared_client_and_registry_reads_keep_theirs()
    {
        await using var storage = await TestUpstream.StartAsync("stalled-storage", static app =>
            app.Run(static context => Task.Delay(Timeout.Infinite, context.RequestAborted)));
        using var gateway = Gateway(storage, ("FuncGateway:Registry:ReadTimeoutSeconds", "2"), ("FuncGateway:RateLimits:OperationTimeoutSeconds", "0.1"));
        var counters = gateway.GetRequiredService<IRateLimitStore>();
        var registry = gateway.GetRequiredService<IRegistryStore>();

        // Two tries each (one retry after 200 ms): about 0.4 s per counter operation, including the table's creation.
        var started = Stopwatch.GetTimestamp();
        await Assert.ThrowsAsync<RateLimitStoreException>(() => counters.ReadAsync(new CounterAddress("p", "r")).AsTask());
        await Assert.ThrowsAsync<RateLimitStoreException>(() => counters.EnsureTableAsync());
        var countersTook = Stopwatch.GetElapsedTime(started);

        // About 4.2 s for one registry read.
        started = Stopwatch.GetTimestamp();
        await Assert.ThrowsAsync<RegistryStoreException>(() => registry.ReadAllAsync());
        var registryTook = Stopwatch.GetElapsedTime(started);

        // Only bounds that load cannot break: under the registry's 2-s timeout the two counter operations would take at
        // least 8.4 s (two tries of 2 s each, twice), under their own about 0.8 s; a busy CI machine has stretched the
        // latter past 2.5 s, so the bound sits well between the two.
        Assert.True(countersTook < TimeSpan.FromSeconds(6), $"Two counter operations took {countersTook}.");
        Assert.True(registryTook >= TimeSpan.FromSeconds(4), $"A registry read gave up after {registryTook}.");
    }

    [Fact]
    public async Task Only_responses_about_the_counter_table_set_the_storage_clock()
    {
        // The service's clock is an hour ahead of this machine's.
        var serviceNow = DateTimeOffset.UtcNow.AddHours(1);
        await using var storage = await TestUpstream.StartAsync("storage", app => app.Run(context =>
        {
            var create = HttpMethods.IsPost(context.Request.Method);
            context.Response.StatusCode = create ? StatusCodes.Status409Conflict : StatusCodes.Status404NotFound;
            context.Response.Headers["x-ms-error-code"] = create ? "TableAlreadyExists" : "ResourceNotFound";
            context.Response.Headers.Date = serviceNow.ToString("R", CultureInfo.InvariantCulture);
            return Task.CompletedTask;
        }));
        using var gateway = Gateway(storage);
        var clock = gateway.GetRequiredService<StorageClock>();

        await gateway.GetRequiredService<IRegistryStore>().EnsureTablesAsync();
        Assert.Null(await gateway.GetRequiredService<IApiKeyStore>().FindAsync("0123456789abcdef", CancellationToken.None));
        Assert.False(clock.IsSynchronized);

        await gateway.GetRequiredService<IRateLimitStore>().EnsureTableAsync();

        Assert.True(clock.IsSynchronized);
        Assert.InRange(clock.Skew, TimeSpan.FromMinutes(59), TimeSpan.FromMinutes(61));
    }

    [Fact]
    public async Task Without_storage_settings_every_store_fails_closed_with_the_reason()
    {
        using var gateway = Gateway(storage: null);

        var registry = Assert.IsType<UnavailableRegistryStore>(gateway.GetRequiredService<IRegistryStore>());
        Assert.IsType<UnavailableRateLimitStore>(gateway.GetRequiredService<IRateLimitStore>());
        Assert.IsType<UnavailableHealthStore>(gateway.GetRequiredService<IHealthStore>());
        Assert.IsType<UnavailableApiKeyStore>(gateway.GetRequiredService<IApiKeyStore>());

        var error = await Assert.ThrowsAsync<RegistryStoreException>(() => registry.ReadAllAsync());
        Assert.Equal("No storage configured: set FuncGateway:Storage:ConnectionString, FuncGateway:Storage:TableServiceUri or AzureWebJobsStorage.", error.Message);
        var counters = await Assert.ThrowsAsync<RateLimitStoreException>(() => gateway.GetRequiredService<IRateLimitStore>().EnsureTableAsync());
        Assert.Equal(error.Message, counters.Message);
    }

    private static ServiceProvider Gateway(TestUpstream? storage, params (string Key, string Value)[] settings)
    {
        var values = new Dictionary<string, string?>
        {
            ["FuncGateway:Storage:ConnectionString"] = storage is null
                ? null
                : $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AccountKey};TableEndpoint={storage.BaseAddress}devstoreaccount1",
            ["FuncGateway:RateLimits:KeyHashSecret"] = "0123456789abcdef0123456789abcdef",
        };
        foreach (var (key, value) in settings)
        {
            values[key] = value;
        }

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddFuncGateway(configuration);
        return services.BuildServiceProvider();
    }
}
