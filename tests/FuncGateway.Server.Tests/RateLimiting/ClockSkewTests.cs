using System.Globalization;
using System.Net;
using Azure.Data.Tables;
using FuncGateway.Authentication.ApiKeys;
using FuncGateway.Server.Tests.Infrastructure;
using FuncGateway.Testing;
using Xunit.Abstractions;

namespace FuncGateway.Server.Tests.RateLimiting;

/// <summary>
/// Two gateway processes on one Azurite, one with its wall clock 30 s fast (libfaketime): rate-limit windows follow
/// the storage service's clock, so the fast instance counts in the same window's row as the other, and a strict limit
/// holds across both. With windows on each instance's own clock, the fast one would already be counting in the next
/// minute's row for half of every minute, and the pair would admit up to twice the limit.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class ClockSkewTests(AzuriteFixture azurite, ITestOutputHelper output)
{
    private const int Limit = 100;
    private const int Requests = 300;
    private const int WindowSeconds = 60;

    [SkippableFact]
    public async Task Two_instances_one_with_its_clock_30_s_fast_never_admit_more_than_a_strict_limit_together()
    {
        Skip.If(LibFaketime.Path is null, "libfaketime is not installed: install the Debian package 'faketime' (scripts/test.sh does so when it runs as root).");

        await using var echo = await TestUpstream.StartAsync("echo");
        var prefix = GatewayHost.NewPrefix();
        var service = new TableServiceClient(azurite.ConnectionString);
        var routes = service.GetTableClient(prefix + "Routes");
        var keys = service.GetTableClient(ApiKeyFormat.TableName(prefix));
        await routes.CreateIfNotExistsAsync();
        await service.GetTableClient(prefix + "Upstreams").CreateIfNotExistsAsync();
        await keys.CreateIfNotExistsAsync();
        await routes.AddEntityAsync(new TableEntity("default", "limited")
        {
            ["Path"] = "/limited", ["Upstream"] = echo.BaseAddress.ToString(), ["Auth"] = "partners", ["RateLimit"] = "per_consumer",
        });
        await routes.AddEntityAsync(new TableEntity("default", "warm") { ["Path"] = "/warm", ["Upstream"] = echo.BaseAddress.ToString(), ["Auth"] = "anonymous" });
        var (apiKey, keyId) = ApiKeyFormat.Generate();
        await keys.AddEntityAsync(ApiKeyFormat.ToEntity(new ApiKeyRecord(ApiKeyFormat.Hash(apiKey), keyId, "acme", null, null, [], true, null, null)));

        var settings = new Dictionary<string, string>
        {
            ["FuncGateway:Storage:ConnectionString"] = azurite.ConnectionString,
            ["FuncGateway:Storage:TablePrefix"] = prefix,
            ["FuncGateway:Registry:RefreshIntervalSeconds"] = "0.5",
            ["FuncGateway:Registry:StartupWaitSeconds"] = "10",
            ["FuncGateway:Auth:Policies:partners:Type"] = "ApiKey",

            // A slow storage call on a loaded build machine must not be mistaken for an outage (which would fail open).
            ["FuncGateway:RateLimits:OperationTimeoutSeconds"] = "15",
            ["FuncGateway:RateLimits:Policies:per_consumer:Limit"] = Limit.ToString(CultureInfo.InvariantCulture),
            ["FuncGateway:RateLimits:Policies:per_consumer:WindowSeconds"] = WindowSeconds.ToString(CultureInfo.InvariantCulture),
            ["FuncGateway:RateLimits:Policies:per_consumer:Mode"] = "Strict",
            ["FuncGateway:RateLimits:Policies:per_consumer:PartitionBy"] = "Consumer",
        };
        var started = await Task.WhenAll(
            GatewayProcess.StartAsync(settings),
            GatewayProcess.StartAsync(settings, LibFaketime.Environment("+30s")));
        await using var onTime = started[0];
        await using var fast = started[1];

        // The fast instance sees its skew in the counter table's first responses (event 5011); the other does not.
        await RateLimitTestSupport.WaitUntilAsync(() => Task.FromResult(fast.Printed("[5011]")), 30);
        Assert.False(onTime.Printed("[5011]"), onTime.Output());
        foreach (var gateway in started)
        {
            using var warm = await gateway.Client.GetAsync("/warm");
            Assert.Equal(HttpStatusCode.OK, warm.StatusCode);
        }

        // Storage (Azurite, on this machine's true clock) is 32–40 s into its minute: the fast instance's own clock is
        // already in the next minute, so a window on its own clock would be a fresh row with a fresh limit. The
        // requests have 20 s before the minute ends.
        var phase = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() % (WindowSeconds * 1000);
        if (phase is < 32_000 or > 40_000)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(((32_000 - phase) + (WindowSeconds * 1000)) % (WindowSeconds * 1000)));
        }

        var warmUps = echo.RequestCount;
        var windowStart = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / (WindowSeconds * 1000) * (WindowSeconds * 1000);
        var responses = await Task.WhenAll(Enumerable.Range(0, Requests).Select(async i =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/limited");
            request.Headers.Add("X-Api-Key", apiKey);
            using var response = await started[i % 2].Client.SendAsync(request);
            return (Instance: i % 2, response.StatusCode);
        }));

        var unexpected = responses.Where(r => r.StatusCode is not (HttpStatusCode.OK or HttpStatusCode.TooManyRequests)).ToList();
        Assert.True(unexpected.Count == 0, $"unexpected statuses: {string.Join(", ", unexpected.Select(r => (int)r.StatusCode))}");
        var admitted = responses.Count(r => r.StatusCode == HttpStatusCode.OK);
        output.WriteLine($"admitted {admitted} of {Requests}: on time {responses.Count(r => r is { Instance: 0, StatusCode: HttpStatusCode.OK })}, 30 s fast {responses.Count(r => r is { Instance: 1, StatusCode: HttpStatusCode.OK })}");

        Assert.Equal(Limit, admitted);
        Assert.Equal(admitted, echo.RequestCount - warmUps);

        // One counter row, the storage clock's current window, holds every admission of both instances.
        var row = Assert.Single(await service.GetTableClient(prefix + "RateLimits").QueryAsync<TableEntity>().ToListAsync());
        Assert.Equal("w" + windowStart.ToString("D15", CultureInfo.InvariantCulture), row.RowKey);
        Assert.Equal(Limit, row.GetInt64("Count"));
    }
}
