using System.Net;
using FuncGateway.Server.Tests.Infrastructure;
using FuncGateway.Testing;

namespace FuncGateway.Server.Tests.Discovery;

/// <summary>
/// The dns and srv sources against a real DNS server (Debian's dnsmasq on a loopback port) whose records change while
/// requests flow through a real gateway to real Kestrel upstreams.
/// </summary>
[Collection("Azurite")]
public sealed class DnsDiscoveryTests(AzuriteFixture azurite)
{
    // TTLs are 1 s (dnsmasq --local-ttl, the gateway's Min/MaxTtlSeconds); a change is served within the TTL, one
    // lookup and one snapshot rebuild. The slack is for a machine shared with other builds.
    private static readonly TimeSpan RefreshBound = TimeSpan.FromSeconds(1 + 2);
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private static Dictionary<string, string?> Settings(Dnsmasq dns) => new()
    {
        ["FuncGateway:Discovery:Dns:Servers"] = dns.Server,
        ["FuncGateway:Discovery:Dns:MinTtlSeconds"] = "1",
        ["FuncGateway:Discovery:Dns:MaxTtlSeconds"] = "1",
        ["FuncGateway:Discovery:Dns:TimeoutSeconds"] = "1",
        ["FuncGateway:Registry:RefreshIntervalSeconds"] = "5",
    };

    private static bool DnsmasqAvailable()
    {
        if (!Dnsmasq.Installed)
        {
            Assert.False(Dnsmasq.Required, Dnsmasq.Missing);
            Skip.If(true, Dnsmasq.Missing);
        }

        return true;
    }

    [SkippableFact]
    public async Task A_records_become_instances_as_they_appear_and_leave_and_an_outage_keeps_the_last_list()
    {
        DnsmasqAvailable();
        var port = LoopbackPorts.GetFree();
        await using var a = await TestUpstream.StartAsync("a", new IPEndPoint(IPAddress.Parse("127.0.0.2"), port));
        await using var b = await TestUpstream.StartAsync("b", new IPEndPoint(IPAddress.Parse("127.0.0.3"), port));
        await using var dns = await Dnsmasq.StartAsync([("127.0.0.2", "orders.internal")]);
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString, Settings(dns));
        await gateway.Upstreams!.UpsertEntityAsync(new Azure.Data.Tables.TableEntity("default", "orders")
        {
            ["Discovery"] = $"{{\"Source\":\"dns\",\"Name\":\"orders.internal\",\"Port\":{port}}}",
        });
        await gateway.UpsertRouteAsync("orders", "/orders/{**rest}", "orders");
        await gateway.ReloadAsync();

        await Waiting.UntilAsync(async () => (await gateway.Client.GetAsync("/orders/1")).IsSuccessStatusCode, Patience, "the first address to be served");
        await using var traffic = new DiscoveryTraffic(gateway, "/orders/1");

        // A second address appears: it gets requests.
        await dns.SetHostsAsync([("127.0.0.2", "orders.internal"), ("127.0.0.3", "orders.internal")]);
        await Waiting.UntilAsync(() => b.RequestCount > 0, Patience, "the new address to get requests");
        Assert.Equal([$"http://127.0.0.2:{port}", $"http://127.0.0.3:{port}"], await DiscoveryView.ServedUrlsAsync(gateway, "orders"));

        // The first address goes: after the refresh bound it gets nothing more, and nothing failed meanwhile.
        await dns.SetHostsAsync([("127.0.0.3", "orders.internal")]);
        await Task.Delay(RefreshBound);
        var toA = a.RequestCount;
        var after = await traffic.NextAsync(30);
        Assert.Equal(toA, a.RequestCount);
        Assert.All(after, answer => Assert.Equal("b", answer));
        Assert.Equal([$"http://127.0.0.3:{port}"], await DiscoveryView.ServedUrlsAsync(gateway, "orders"));

        // The DNS server dies: the last list keeps serving, and the pool says so.
        await dns.StopAsync();
        await Task.Delay(RefreshBound + RefreshBound);
        var duringOutage = await traffic.NextAsync(30);
        Assert.All(duringOutage, answer => Assert.Equal("b", answer));
        var pool = await DiscoveryView.PoolAsync(gateway, "orders");
        var discovery = pool.GetProperty("discovery");
        Assert.Equal("dns", discovery.GetProperty("source").GetString());
        Assert.Equal("stale", discovery.GetProperty("state").GetString());
        Assert.Contains("orders.internal", discovery.GetProperty("lastError").GetString());
        Assert.Equal([$"http://127.0.0.3:{port}"], discovery.GetProperty("instances").EnumerateArray().Select(i => i.GetProperty("url").GetString()));
        Assert.DoesNotContain(traffic.Answers, answer => answer is not ("a" or "b"));
    }

    [SkippableFact]
    public async Task Srv_records_give_ports_weights_and_priorities_and_follow_changes()
    {
        DnsmasqAvailable();
        await using var x = await TestUpstream.StartAsync("x");
        await using var y = await TestUpstream.StartAsync("y");
        await using var z = await TestUpstream.StartAsync("z");
        string Srv(TestUpstream upstream, int priority, int weight) =>
            $"--srv-host=_http._tcp.orders.internal,host.internal,{upstream.BaseAddress.Port},{priority},{weight}";
        const string Host = "--host-record=host.internal,127.0.0.1";
        await using var dns = await Dnsmasq.StartAsync([], Host, Srv(x, 0, 1));
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString, Settings(dns));
        await gateway.Upstreams!.UpsertEntityAsync(new Azure.Data.Tables.TableEntity("default", "orders")
        {
            ["Discovery"] = "{\"source\":\"SRV\",\"name\":\"_http._tcp.orders.internal\"}",
            ["LoadBalancing"] = "WeightedRoundRobin",
        });
        await gateway.UpsertRouteAsync("orders", "/orders/{**rest}", "orders");
        await gateway.ReloadAsync();
        await Waiting.UntilAsync(async () => (await gateway.Client.GetAsync("/orders/1")).IsSuccessStatusCode, Patience, "x to be served");

        // y joins with weight 3 at the same priority; z, at a higher priority value, is in the pool as a fall-back only.
        await dns.RestartAsync(Host, Srv(x, 0, 1), Srv(y, 0, 3), Srv(z, 1, 100));
        string Url(TestUpstream upstream) => $"http://127.0.0.1:{upstream.BaseAddress.Port}";
        var threeInstances = new[] { Url(x), Url(y), Url(z) }.Order().ToArray();
        await Waiting.UntilAsync(async () => (await DiscoveryView.ServedUrlsAsync(gateway, "orders")).SequenceEqual(threeInstances), Patience, "x, y and z in the pool");
        var discovered = (await DiscoveryView.PoolAsync(gateway, "orders")).GetProperty("discovery").GetProperty("instances").EnumerateArray()
            .ToDictionary(i => i.GetProperty("url").GetString()!, i => (Weight: i.GetProperty("weight").GetInt32(), Priority: i.GetProperty("priority").GetInt32()));
        Assert.Equal((1, 0), discovered[Url(x)]);
        Assert.Equal((3, 0), discovered[Url(y)]);
        Assert.Equal((100, 1), discovered[Url(z)]);

        var (toX, toY) = (x.RequestCount, y.RequestCount);
        for (var i = 0; i < 200; i++)
        {
            await Echo.ReadAsync(await gateway.Client.GetAsync("/orders/1"));
        }

        Assert.InRange(y.RequestCount - toY, 140, 160);
        Assert.InRange(x.RequestCount - toX, 40, 60);
        Assert.Equal(0, z.RequestCount);

        // x's record goes while traffic flows: after the refresh bound x gets nothing more, and z still nothing.
        await using var traffic = new DiscoveryTraffic(gateway, "/orders/1");
        await dns.RestartAsync(Host, Srv(y, 0, 3), Srv(z, 1, 100));
        await Task.Delay(RefreshBound);
        var afterBound = x.RequestCount;
        var after = await traffic.NextAsync(30);
        Assert.Equal(afterBound, x.RequestCount);
        Assert.All(after, answer => Assert.Equal("y", answer));
        Assert.Equal(0, z.RequestCount);

        // y, the last instance of the preferred priority, stops: its connections are refused, the request is retried on
        // z (nothing was sent), y's circuit opens, and z, the fall-back, takes every request.
        await y.StopAsync();
        await Waiting.UntilAsync(() => traffic.Answers.TakeLast(10).Count(a => a == "z") == 10, Patience, "z to take over from y");
        Assert.All(await traffic.NextAsync(30), answer => Assert.Equal("z", answer));
    }
}
