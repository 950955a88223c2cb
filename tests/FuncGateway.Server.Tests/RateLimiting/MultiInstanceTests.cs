using System.Net;
using FuncGateway.Server.Tests.Infrastructure;
using FuncGateway.Testing;
using Xunit.Abstractions;

namespace FuncGateway.Server.Tests.RateLimiting;

/// <summary>
/// Two and three gateway processes sharing one Azurite: a limit holds across all of them. 400 concurrent requests
/// against a limit of 100: exactly 100 admitted in strict mode; in fast mode never more than the limit (its
/// documented overshoot for windows is zero: slices are taken from the row before they are spent).
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class MultiInstanceTests(AzuriteFixture azurite, ITestOutputHelper output)
{
    private const int Limit = 100;
    private const int Requests = 400;

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public async Task A_limit_of_100_admits_exactly_100_of_400_concurrent_requests_in_strict_mode_and_at_most_100_in_fast_mode(int instances)
    {
        await using var echo = await TestUpstream.StartAsync("echo");
        var (writer, gateways) = await StartAsync(instances, echo);
        await using var _ = writer;
        try
        {
            var strict = await FireAsync(gateways, "/strict");
            Assert.Equal(Limit, strict.Admitted);
            Assert.Equal(Requests - Limit, strict.Refused);

            var sliding = await FireAsync(gateways, "/sliding");
            Assert.Equal(Limit, sliding.Admitted);

            var fast = await FireAsync(gateways, "/fast");
            Assert.InRange(fast.Admitted, Limit - 10, Limit);
            Assert.Equal(Requests - fast.Admitted, fast.Refused);

            output.WriteLine($"{instances} instances: strict {strict.Admitted}, sliding {sliding.Admitted}, fast {fast.Admitted} of {Requests} admitted (limit {Limit}).");

            // The upstream saw exactly the admitted requests: refusals never reached it.
            Assert.Equal(strict.Admitted + sliding.Admitted + fast.Admitted, echo.RequestCount);
        }
        finally
        {
            foreach (var gateway in gateways)
            {
                await gateway.DisposeAsync();
            }
        }
    }

    private async Task<(GatewayHost Writer, GatewayProcess[] Gateways)> StartAsync(int instances, TestUpstream echo)
    {
        var prefix = GatewayHost.NewPrefix();
        var settings = new Dictionary<string, string>
        {
            ["FuncGateway:Storage:ConnectionString"] = azurite.ConnectionString,
            ["FuncGateway:Storage:TablePrefix"] = prefix,
            ["FuncGateway:Registry:RefreshIntervalSeconds"] = "0.5",
            ["FuncGateway:Registry:StartupWaitSeconds"] = "10",

            // A slow storage call on a loaded build machine must not be mistaken for an outage (which would fail open).
            ["FuncGateway:RateLimits:OperationTimeoutSeconds"] = "15",
            ["FuncGateway:RateLimits:Policies:strict:Limit"] = "100",
            ["FuncGateway:RateLimits:Policies:strict:WindowSeconds"] = "86400",
            ["FuncGateway:RateLimits:Policies:strict:Mode"] = "Strict",
            ["FuncGateway:RateLimits:Policies:sliding:Algorithm"] = "SlidingWindow",
            ["FuncGateway:RateLimits:Policies:sliding:Limit"] = "100",
            ["FuncGateway:RateLimits:Policies:sliding:WindowSeconds"] = "86400",
            ["FuncGateway:RateLimits:Policies:sliding:Mode"] = "Strict",
            ["FuncGateway:RateLimits:Policies:fast:Limit"] = "100",
            ["FuncGateway:RateLimits:Policies:fast:WindowSeconds"] = "86400",
            ["FuncGateway:RateLimits:Policies:fast:Mode"] = "Fast",
            ["FuncGateway:RateLimits:Policies:fast:InstanceEstimate"] = instances.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };

        // The routes are in the tables before any instance starts, so every instance's first snapshot has them.
        var writer = await GatewayHost.StartAsync(azurite.ConnectionString, settings.ToDictionary(s => s.Key, s => (string?)s.Value), prefix);
        foreach (var policy in new[] { "strict", "sliding", "fast" })
        {
            await writer.UpsertRouteAsync(policy, "/" + policy, echo.BaseAddress.ToString(), ("RateLimit", policy));
        }

        await RateLimitTestSupport.AwayFromWindowBoundaryAsync(86400);
        var gateways = await Task.WhenAll(Enumerable.Range(0, instances).Select(_ => GatewayProcess.StartAsync(settings)));
        return (writer, gateways);
    }

    private static async Task<(int Admitted, int Refused)> FireAsync(GatewayProcess[] gateways, string path)
    {
        var responses = await Task.WhenAll(Enumerable.Range(0, Requests).Select(i => gateways[i % gateways.Length].Client.GetAsync(path)));
        try
        {
            var unexpected = responses.Where(r => r.StatusCode is not (HttpStatusCode.OK or HttpStatusCode.TooManyRequests)).ToList();
            Assert.True(unexpected.Count == 0, $"{path}: unexpected {string.Join(", ", unexpected.Select(r => (int)r.StatusCode))}: {(unexpected.Count > 0 ? await unexpected[0].Content.ReadAsStringAsync() : "")}");
            return (responses.Count(r => r.StatusCode == HttpStatusCode.OK), responses.Count(r => r.StatusCode == HttpStatusCode.TooManyRequests));
        }
        finally
        {
            foreach (var response in responses)
            {
                response.Dispose();
            }
        }
    }
}
