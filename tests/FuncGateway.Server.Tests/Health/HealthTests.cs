using System.Net;
using System.Text.Json;
using Azure.Data.Tables;
using FuncGateway.Health;
using FuncGateway.Server.Tests.Infrastructure;
using FuncGateway.Server.Tests.Resilience;
using FuncGateway.Testing;

namespace FuncGateway.Server.Tests.Health;

/// <summary>Active health checking through the Health table: one prober for the fleet, every gateway routes by it.</summary>
[Collection("Azurite")]
public sealed class HealthTests(AzuriteFixture azurite)
{
    private const string HealthCheck = """{"path":"/health","intervalSeconds":0.3,"timeoutSeconds":0.3,"unhealthyThreshold":2,"healthyThreshold":2}""";

    private static Dictionary<string, string?> Settings(bool probe, double leaseSeconds = 15) => new()
    {
        ["FuncGateway:Health:ProbeEnabled"] = probe ? "true" : "false",
        ["FuncGateway:Health:ProbeTickSeconds"] = "0.1",
        ["FuncGateway:Health:RefreshIntervalSeconds"] = "0.2",
        ["FuncGateway:Health:LeaseSeconds"] = leaseSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        for (var i = 0; i < 300; i++)
        {
            if (await condition())
            {
                return;
            }

            await Task.Delay(50);
        }

        Assert.Fail("Timed out waiting until " + what);
    }

    private static async Task<List<TableEntity>> RowsAsync(GatewayHost gateway) =>
        await gateway.Health!.QueryAsync<TableEntity>(e => e.PartitionKey == "pool").ToListAsync();

    private static async Task<string?> StateAsync(GatewayHost gateway, Uri instance) =>
        (await RowsAsync(gateway)).FirstOrDefault(r => r.GetString("Url") == instance.ToString().TrimEnd('/'))?.GetString("State");

    private static async Task<HashSet<string>> InstancesServingAsync(GatewayHost gateway, int requests = 12)
    {
        var seen = new HashSet<string>();
        for (var i = 0; i < requests; i++)
        {
            seen.Add((await Echo.ReadAsync(await gateway.Client.GetAsync("/app"))).Instance);
        }

        return seen;
    }

    [Fact]
    public async Task The_prober_writes_the_health_table_and_a_gateway_that_does_not_probe_routes_by_it()
    {
        await using var a = await ControllableUpstream.StartAsync("a");
        await using var b = await ControllableUpstream.StartAsync("b");
        await using var prober = await GatewayHost.StartAsync(azurite.ConnectionString, Settings(probe: true));
        await using var reader = await GatewayHost.StartAsync(azurite.ConnectionString, Settings(probe: false), prober.TablePrefix);
        await prober.UpsertPoolAsync("pool", [(a.BaseAddress, 1), (b.BaseAddress, 1)], ("HealthCheck", HealthCheck));
        await prober.UpsertRouteAsync("app", "/app", "pool");
        await prober.ReloadAsync();
        await reader.ReloadAsync();
        await WaitUntilAsync(async () => await StateAsync(prober, b.BaseAddress) == "Healthy", "b is probed healthy");
        var version = (await reader.AdminGetAsync("status")).GetProperty("snapshotVersion").GetInt64();

        b.HealthStatus = 503;
        await WaitUntilAsync(async () => await StateAsync(prober, b.BaseAddress) == "Unhealthy", "b is written down");
        var row = (await RowsAsync(prober)).Single(r => r.GetString("State") == "Unhealthy");
        Assert.Equal(2, row.GetInt32("ConsecutiveFailures"));
        Assert.Equal(503, row.GetInt32("LastStatus"));
        Assert.Contains("status 503", row.GetString("LastError"), StringComparison.Ordinal);
        Assert.NotNull(row.GetDateTimeOffset("ProbedAt"));
        Assert.NotNull(row.GetDouble("LatencyMs"));
        await WaitUntilAsync(async () => (await InstancesServingAsync(reader)).SetEquals(["a"]), "the reader routes around b");

        b.HealthStatus = 200;
        await WaitUntilAsync(async () => (await InstancesServingAsync(reader)).SetEquals(["a", "b"]), "b is back in rotation");

        // Health came through the Health table, not through a registry reload.
        Assert.Equal(version, (await reader.AdminGetAsync("status")).GetProperty("snapshotVersion").GetInt64());
        Assert.True(a.HealthChecks > 0);
    }

    [Fact]
    public async Task A_flapping_health_endpoint_does_not_flap_routing()
    {
        await using var steady = await ControllableUpstream.StartAsync("steady");
        await using var flapping = await ControllableUpstream.StartAsync("flapping");
        flapping.FlapHealth = true;
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString, Settings(probe: true));
        await gateway.UpsertPoolAsync("pool", [(steady.BaseAddress, 1), (flapping.BaseAddress, 1)], ("HealthCheck", HealthCheck));
        await gateway.UpsertRouteAsync("app", "/app", "pool");
        await gateway.ReloadAsync();

        var maxFailuresInARow = 0;
        var served = new HashSet<string>();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (flapping.HealthChecks < 10)
        {
            Assert.True(DateTime.UtcNow < deadline, "the prober kept probing");
            var row = (await RowsAsync(gateway)).FirstOrDefault(r => r.GetString("Url") == flapping.BaseAddress.ToString().TrimEnd('/'));
            maxFailuresInARow = Math.Max(maxFailuresInARow, row?.GetInt32("ConsecutiveFailures") ?? 0);
            Assert.NotEqual("Unhealthy", row?.GetString("State"));
            served.UnionWith(await InstancesServingAsync(gateway, 4));
        }

        Assert.InRange(maxFailuresInARow, 0, 1);
        Assert.Equal(["flapping", "steady"], served.Order());
    }

    [Fact]
    public async Task One_gateway_of_the_fleet_probes_and_another_takes_over_when_it_stops()
    {
        // A 5 s lease, not 1 s: the holder renews it every tick, but on a loaded machine one round of renewing and
        // probing against Azurite can take over a second, and the other gateway would then take over while this test
        // checks that only one probes. A graceful stop releases the lease at once, so the takeover below does not wait on it.
        await using var a = await ControllableUpstream.StartAsync("a");
        var first = await GatewayHost.StartAsync(azurite.ConnectionString, Settings(probe: true, leaseSeconds: 5));
        await using var second = await GatewayHost.StartAsync(azurite.ConnectionString, Settings(probe: true, leaseSeconds: 5), first.TablePrefix);
        await first.UpsertPoolAsync("pool", [(a.BaseAddress, 1)], ("HealthCheck", HealthCheck));
        await first.UpsertRouteAsync("app", "/app", "pool");
        await first.ReloadAsync();
        await second.ReloadAsync();

        var probers = new HashSet<string>();
        for (var i = 0; i < 15; i++)
        {
            if ((await RowsAsync(first)).SingleOrDefault()?.GetString("ProbedBy") is { } by)
            {
                probers.Add(by);
            }

            await Task.Delay(100);
        }

        var holders = new[] { first, second }.Select(async g => (await g.AdminGetAsync("health")).GetProperty("prober").GetProperty("leaseHolder").GetBoolean());
        Assert.Single(probers);
        Assert.Equal(1, (await Task.WhenAll(holders)).Count(h => h));

        var holder = (await first.AdminGetAsync("health")).GetProperty("prober").GetProperty("leaseHolder").GetBoolean() ? first : second;
        var other = holder == first ? second : first;
        var otherId = (await other.AdminGetAsync("health")).GetProperty("prober").GetProperty("id").GetString();
        await holder.DisposeAsync();
        await WaitUntilAsync(async () => (await RowsAsync(other)).SingleOrDefault()?.GetString("ProbedBy") == otherId, "the other gateway probes");
        if (holder != first)
        {
            await first.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_probe_round_longer_than_the_lease_keeps_the_lease_and_no_second_gateway_probes_meanwhile()
    {
        // Its health endpoint never answers: every round waits out the 6-s probe timeout, twice the 3-s lease. (A 1-s
        // lease left the renewals, each a call to Azurite, no room: on a loaded machine one took over a second, the
        // lease lapsed and the other gateway probed, the very failure this test is about, for the wrong reason.)
        await using var mute = await TestUpstream.StartAsync("mute", app => app.Respond(async context =>
        {
            await Task.Delay(Timeout.Infinite, context.RequestAborted);
        }));
        var first = await GatewayHost.StartAsync(azurite.ConnectionString, Settings(probe: true, leaseSeconds: 3));
        await using var second = await GatewayHost.StartAsync(azurite.ConnectionString, Settings(probe: true, leaseSeconds: 3), first.TablePrefix);
        try
        {
            await first.UpsertPoolAsync("pool", [(mute.BaseAddress, 1)], ("HealthCheck", """{"path":"/health","intervalSeconds":6,"timeoutSeconds":6}"""));
            await first.UpsertRouteAsync("app", "/app", "pool");
            await first.ReloadAsync();
            await second.ReloadAsync();

            // Watched until two rounds have written their results (a whole round, twice the lease, lies between them).
            var probers = new HashSet<string>();
            var rounds = new HashSet<DateTimeOffset>();
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (rounds.Count < 2 && DateTime.UtcNow < deadline)
            {
                if ((await RowsAsync(first)).SingleOrDefault() is { } row)
                {
                    probers.Add(row.GetString("ProbedBy"));
                    rounds.Add(row.GetDateTimeOffset("ProbedAt")!.Value);
                }

                await Task.Delay(100);
            }

            Assert.True(rounds.Count >= 2, $"expected at least two probe rounds, saw {rounds.Count}");
            Assert.Single(probers);
        }
        finally
        {
            await first.DisposeAsync();
        }
    }

    [Fact]
    public async Task When_every_instance_is_unhealthy_the_gateway_answers_503_with_retry_after()
    {
        await using var a = await ControllableUpstream.StartAsync("a");
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString, Settings(probe: false));
        await gateway.UpsertPoolAsync("pool", [(a.BaseAddress, 1)], ("HealthCheck", """{"intervalSeconds":5,"healthyThreshold":2}"""));
        await gateway.UpsertRouteAsync("app", "/app", "pool");
        await gateway.ReloadAsync();

        // Written as any prober would: the gateway only reads the table.
        var response = await UnhealthyAsync(gateway, a.BaseAddress, successes: 0, failures: 3);

        await Problem.AssertAsync(response, HttpStatusCode.ServiceUnavailable, "no_upstream_available");
        Assert.Equal("10", response.Headers.GetValues("Retry-After").Single());
        var reached = a.Requests;
        using var again = await gateway.Client.GetAsync("/app");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, again.StatusCode);
        Assert.Equal(reached, a.Requests);
        var instance = (await gateway.AdminGetAsync("health")).GetProperty("pools")[0].GetProperty("instances")[0];
        Assert.False(instance.GetProperty("available").GetBoolean());
        Assert.Equal("Unhealthy", instance.GetProperty("health").GetProperty("state").GetString());
        Assert.Equal("Closed", instance.GetProperty("circuit").GetProperty("state").GetString());
    }

    [Fact]
    public async Task Retry_after_counts_the_probes_still_needed_at_the_interval_probe_rounds_really_give()
    {
        // Rounds every 5 s (the Functions timer's pace): intervalSeconds 1 is a probe every 5 s. The instance has passed
        // one of the three probes it needs, so it is back in two more rounds at the earliest: 10 s, not 1 x 3 s.
        await using var a = await ControllableUpstream.StartAsync("a");
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString, new Dictionary<string, string?>
        {
            ["FuncGateway:Health:ProbeEnabled"] = "false",
            ["FuncGateway:Health:ProbeTickSeconds"] = "5",
            ["FuncGateway:Health:RefreshIntervalSeconds"] = "0.2",
        });
        await gateway.UpsertPoolAsync("pool", [(a.BaseAddress, 1)], ("HealthCheck", """{"intervalSeconds":1,"timeoutSeconds":1,"healthyThreshold":3}"""));
        await gateway.UpsertRouteAsync("app", "/app", "pool");
        await gateway.ReloadAsync();
        var response = await UnhealthyAsync(gateway, a.BaseAddress, successes: 1, failures: 0);

        await Problem.AssertAsync(response, HttpStatusCode.ServiceUnavailable, "no_upstream_available");
        Assert.Equal("10", response.Headers.GetValues("Retry-After").Single());
    }

    /// <summary>Writes the instance's row as Unhealthy, probed now, and waits for the first request the gateway refuses.</summary>
    private static async Task<HttpResponseMessage> UnhealthyAsync(GatewayHost gateway, Uri instance, int successes, int failures)
    {
        await gateway.MarkUnhealthyAsync("pool", instance, successes, failures);
        HttpResponseMessage? response = null;
        await WaitUntilAsync(async () => (response = await gateway.Client.GetAsync("/app")).StatusCode == HttpStatusCode.ServiceUnavailable, "the instance is out");
        return response!;
    }

    [Fact]
    public async Task Storage_answering_503_with_a_long_retry_after_does_not_stall_the_prober_and_probing_resumes_when_it_recovers()
    {
        await using var a = await ControllableUpstream.StartAsync("a");
        await using var proxy = StorageFaultProxy.Start(azurite.Azurite);
        var settings = Settings(probe: true);
        settings["FuncGateway:Registry:ReadTimeoutSeconds"] = "1";
        await using var gateway = await GatewayHost.StartAsync(proxy.ConnectionString, settings);
        await gateway.UpsertPoolAsync("pool", [(a.BaseAddress, 1)], ("HealthCheck", HealthCheck));
        await gateway.UpsertRouteAsync("app", "/app", "pool");
        await gateway.ReloadAsync();
        await WaitUntilAsync(async () => await StateAsync(gateway, a.BaseAddress) is not null, "the first probe is written");

        // Storage throttles and asks for an hour's patience. The storage client waits out a Retry-After before its
        // retry; before the fix the prober's lease call had no deadline, so it hung there for the hour, still saying
        // it held the lease with no error, and made no further call: at most two lease calls were ever refused (one
        // cut off by the switch, retried into the 503; the next one hung). Now each call ends after ReadTimeoutSeconds
        // and the next tick makes another.
        proxy.Fail(503, retryAfter: "3600");
        for (var i = 0; LeaseCalls(proxy) < 4; i++)
        {
            Assert.True(i < 1200, $"only {LeaseCalls(proxy)} lease calls were refused: the prober stalled on the first Retry-After");
            await Task.Delay(50);
        }

        var prober = (await gateway.AdminGetAsync("health")).GetProperty("prober");
        Assert.False(prober.GetProperty("leaseHolder").GetBoolean());
        Assert.Contains("prober lease", prober.GetProperty("lastError").GetString(), StringComparison.Ordinal);

        proxy.Pass();
        var recoveredAt = DateTimeOffset.UtcNow;
        await WaitUntilAsync(async () =>
        {
            var row = (await RowsAsync(gateway)).FirstOrDefault(r => r.GetString("Url") == a.BaseAddress.ToString().TrimEnd('/'));
            return row?.GetDateTimeOffset("ProbedAt") > recoveredAt;
        }, "the instance is probed again");
    }

    private static int LeaseCalls(StorageFaultProxy proxy) =>
        proxy.Faulted.Where(r => r.RequestLine.Contains(TableHealthStore.LeaseRowKey, StringComparison.Ordinal)).Select(r => r.ClientRequestId).Distinct().Count();

    [Fact]
    public async Task When_the_health_table_goes_away_the_prober_makes_it_again_and_goes_on_probing()
    {
        await using var a = await ControllableUpstream.StartAsync("a");
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString, Settings(probe: true));
        await gateway.UpsertPoolAsync("pool", [(a.BaseAddress, 1)], ("HealthCheck", HealthCheck));
        await gateway.UpsertRouteAsync("app", "/app", "pool");
        await gateway.ReloadAsync();
        await WaitUntilAsync(async () => await StateAsync(gateway, a.BaseAddress) is not null, "the first probe is written");

        // A storage account reset, an emulator restarted in memory: the table is gone.
        await gateway.Health!.DeleteAsync();

        // The prober's next lease attempt finds no table; the one after makes it again and probing goes on (it used
        // to stop for good until a restart).
        await WaitUntilAsync(async () =>
        {
            try
            {
                return await StateAsync(gateway, a.BaseAddress) is not null;
            }
            catch (Azure.RequestFailedException)
            {
                return false;
            }
        }, "the health table is made again and probed into");
        var prober = (await gateway.AdminGetAsync("health")).GetProperty("prober");
        Assert.True(prober.GetProperty("leaseHolder").GetBoolean());
    }

    [Fact]
    public async Task The_admin_health_endpoint_lists_every_pool_and_instance_and_needs_the_admin_key()
    {
        await using var a = await ControllableUpstream.StartAsync("a");
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString, Settings(probe: false));
        await gateway.UpsertPoolAsync("pool", [(a.BaseAddress, 2)], ("LoadBalancing", "ConsistentHash"), ("HashKey", "Claim:sub"));
        await gateway.UpsertRouteAsync("app", "/app", "pool");
        await gateway.UpsertRouteAsync("inline", "/inline", a.BaseAddress.ToString());
        await gateway.ReloadAsync();

        using var anonymous = await gateway.Client.GetAsync("/_gateway/health");
        await Problem.AssertAsync(anonymous, HttpStatusCode.Unauthorized, "admin_unauthorized");
        var health = await gateway.AdminGetAsync("health");

        var pools = health.GetProperty("pools").EnumerateArray().ToList();
        Assert.Equal(["pool", a.BaseAddress.ToString().TrimEnd('/')], pools.Select(p => p.GetProperty("name").GetString()));
        Assert.Equal(("ConsistentHash", "Claim:sub", JsonValueKind.Null, 1, 1),
            (pools[0].GetProperty("loadBalancing").GetString(), pools[0].GetProperty("hashKey").GetString(), pools[0].GetProperty("healthCheck").ValueKind,
                pools[0].GetProperty("available").GetInt32(), pools[0].GetProperty("total").GetInt32()));
        Assert.True(pools[1].GetProperty("inline").GetBoolean());
        var instance = pools[0].GetProperty("instances")[0];
        Assert.Equal((2, true, 0, JsonValueKind.Null), (instance.GetProperty("weight").GetInt32(), instance.GetProperty("available").GetBoolean(),
            instance.GetProperty("outstandingRequests").GetInt32(), instance.GetProperty("health").ValueKind));
        var circuit = instance.GetProperty("circuit");
        Assert.Equal(("Closed", 0.5, 10, 30.0, 10.0), (circuit.GetProperty("state").GetString(), circuit.GetProperty("failureRatio").GetDouble(),
            circuit.GetProperty("minimumThroughput").GetInt32(), circuit.GetProperty("samplingSeconds").GetDouble(), circuit.GetProperty("breakSeconds").GetDouble()));
        Assert.Equal(JsonValueKind.Null, health.GetProperty("healthTable").GetProperty("lastError").ValueKind);
    }
}
