using FuncGateway.Server.Tests.Infrastructure;
using FuncGateway.Server.Tests.Resilience;
using FuncGateway.Testing;

namespace FuncGateway.Server.Tests.LoadBalancing;

/// <summary>The balancing strategies end to end: real gateway, real Kestrel upstreams.</summary>
[Collection("Azurite")]
public sealed class LoadBalancingTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private GatewayHost _gateway = null!;

    public async Task InitializeAsync() => _gateway = await GatewayHost.StartAsync(azurite.ConnectionString);

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    private async Task<string> InstanceAsync(string path, string? user = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (user is not null)
        {
            request.Headers.Add("X-User", user);
        }

        return (await Echo.ReadAsync(await _gateway.Client.SendAsync(request))).Instance;
    }

    [Fact]
    public async Task Weighted_round_robin_gives_each_instance_its_share()
    {
        await using var light = await TestUpstream.StartAsync("light");
        await using var heavy = await TestUpstream.StartAsync("heavy");
        await _gateway.UpsertPoolAsync("weighted", [(light.BaseAddress, 1), (heavy.BaseAddress, 3)], ("LoadBalancing", "WeightedRoundRobin"));
        await _gateway.UpsertRouteAsync("weighted", "/weighted", "weighted");
        await _gateway.ReloadAsync();

        var seen = new List<string>();
        for (var i = 0; i < 400; i++)
        {
            seen.Add(await InstanceAsync("/weighted"));
        }

        Assert.InRange(seen.Count(s => s == "heavy"), 291, 309);
        Assert.InRange(seen.Count(s => s == "light"), 97, 103);
    }

    [Fact]
    public async Task Weighted_round_robin_keeps_exact_shares_among_the_instances_left_in_a_partial_outage()
    {
        await using var light = await TestUpstream.StartAsync("light");
        await using var heavy = await TestUpstream.StartAsync("heavy");
        await using var down = await TestUpstream.StartAsync("down");
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString, new Dictionary<string, string?>
        {
            ["FuncGateway:Health:ProbeEnabled"] = "false",
            ["FuncGateway:Health:RefreshIntervalSeconds"] = "0.2",
        });
        await gateway.UpsertPoolAsync("pool", [(light.BaseAddress, 1), (heavy.BaseAddress, 3), (down.BaseAddress, 4)],
            ("LoadBalancing", "WeightedRoundRobin"), ("HealthCheck", """{"intervalSeconds":5}"""));
        await gateway.UpsertRouteAsync("app", "/app", "pool");
        await gateway.ReloadAsync();

        // Written as a prober would; no request is sent until the gateway has read it.
        await gateway.MarkUnhealthyAsync("pool", down.BaseAddress);
        var gone = false;
        for (var i = 0; i < 1_000 && !gone; i++)
        {
            var pool = (await gateway.AdminGetAsync("health")).GetProperty("pools").EnumerateArray().Single(p => p.GetProperty("name").GetString() == "pool");
            gone = pool.GetProperty("available").GetInt32() == 2;
            if (!gone)
            {
                await Task.Delay(10);
            }
        }

        Assert.True(gone, "the instance is out");
        var seen = new List<string>();
        for (var i = 0; i < 400; i++)
        {
            seen.Add((await Echo.ReadAsync(await gateway.Client.GetAsync("/app"))).Instance);
        }

        // 1 : 3 between the two left, interleaved (never four of the heavy one in a row); none to the one that is out.
        Assert.InRange(seen.Count(s => s == "heavy"), 291, 309);
        Assert.InRange(seen.Count(s => s == "light"), 97, 103);
        Assert.Equal(400, seen.Count(s => s is "light" or "heavy"));
        Assert.DoesNotContain(string.Join(",", seen), "heavy,heavy,heavy,heavy", StringComparison.Ordinal);
    }

    [Fact]
    public async Task Weighted_round_robin_keeps_the_shares_of_the_instances_left_when_retries_skip_a_dead_one()
    {
        await using var light = await TestUpstream.StartAsync("light");
        await using var heavy = await TestUpstream.StartAsync("heavy");
        var dead = new Uri($"http://127.0.0.1:{LoopbackPorts.GetRefusing()}/");

        // The dead instance stays in rotation (no breaker): every request that picks it is retried on {light, heavy},
        // half of them, so the retry budget is raised.
        await _gateway.UpsertPoolAsync("retried", [(light.BaseAddress, 1), (heavy.BaseAddress, 3), (dead, 4)],
            ("LoadBalancing", "WeightedRoundRobin"), ("CircuitBreaker", """{"enabled":false}"""));
        await _gateway.UpsertRouteAsync("retried", "/retried", "retried", ("Retries", """{"budgetPercent":100,"budgetMinPerSecond":1000}"""));
        await _gateway.ReloadAsync();

        var seen = new List<string>();
        for (var i = 0; i < 400; i++)
        {
            seen.Add(await InstanceAsync("/retried"));
        }

        // 1 : 3 in all, first attempts and retries together; the retries' picks among the two left were not skewed
        // by the first attempts' picks in between.
        Assert.Equal(400, seen.Count(s => s is "light" or "heavy"));
        Assert.InRange(seen.Count(s => s == "heavy"), 291, 309);
        Assert.InRange(seen.Count(s => s == "light"), 91, 109);
    }

    [Fact]
    public async Task Least_requests_sends_new_requests_to_the_idle_instance()
    {
        await using var a = await ControllableUpstream.StartAsync("a");
        await using var b = await ControllableUpstream.StartAsync("b");
        await _gateway.UpsertPoolAsync("least", [(a.BaseAddress, 1), (b.BaseAddress, 1)], ("LoadBalancing", "LeastRequests"));
        await _gateway.UpsertRouteAsync("least", "/least/{**rest}", "least");
        await _gateway.ReloadAsync();

        a.Hold();
        b.Hold();
        var held = _gateway.Client.GetAsync("/least/slow");
        for (var i = 0; i < 500 && a.Requests + b.Requests == 0; i++)
        {
            await Task.Delay(10);
        }

        var busy = a.Requests == 1 ? a : b;
        var idle = busy == a ? b : a;
        idle.Release();
        var picks = new List<string>();
        for (var i = 0; i < 10; i++)
        {
            picks.Add(await InstanceAsync("/least/fast"));
        }

        busy.Release();
        Assert.Equal(busy.Name, (await Echo.ReadAsync(await held)).Instance);
        Assert.All(picks, p => Assert.Equal(idle.Name, p));
    }

    [Fact]
    public async Task Consistent_hashing_on_a_header_keeps_each_user_on_one_instance()
    {
        var upstreams = new List<TestUpstream>();
        for (var i = 0; i < 3; i++)
        {
            upstreams.Add(await TestUpstream.StartAsync("u" + i));
        }

        try
        {
            await _gateway.UpsertPoolAsync("sticky", upstreams.Select(u => (u.BaseAddress, 1)).ToArray(),
                ("LoadBalancing", "ConsistentHash"), ("HashKey", "Header:X-User"));
            await _gateway.UpsertRouteAsync("sticky", "/sticky", "sticky");
            await _gateway.ReloadAsync();

            var homes = new Dictionary<string, HashSet<string>>();
            for (var round = 0; round < 3; round++)
            {
                for (var user = 0; user < 30; user++)
                {
                    var name = "user-" + user;
                    (homes.TryGetValue(name, out var set) ? set : homes[name] = []).Add(await InstanceAsync("/sticky", name));
                }
            }

            Assert.All(homes.Values, set => Assert.Single(set));
            Assert.Equal(3, homes.Values.Select(s => s.Single()).Distinct().Count());
        }
        finally
        {
            foreach (var upstream in upstreams)
            {
                await upstream.DisposeAsync();
            }
        }
    }
}
