using Azure.Data.Tables;
using FuncGateway.Server.Tests.Infrastructure;
using FuncGateway.Testing;
using FuncGateway.Testing.Discovery;

namespace FuncGateway.Server.Tests.Discovery;

/// <summary>
/// The consul source end to end: a real gateway whose pool follows a protocol fake of a Consul agent (blocking
/// queries, an ACL token), forwarding to real Kestrel upstreams while the fake's catalogue changes and then goes away.
/// </summary>
[Collection("Azurite")]
public sealed class ConsulDiscoveryTests(AzuriteFixture azurite)
{
    private const string Token = "consul-acl-5d1c";

    private static ConsulEntry Entry(TestUpstream upstream, bool passing = true) =>
        new($"node-{upstream.Name}", "127.0.0.1", "127.0.0.1", upstream.BaseAddress.Port, passing);

    private static string Url(TestUpstream upstream) => $"http://127.0.0.1:{upstream.BaseAddress.Port}";

    [Fact]
    public async Task Instances_follow_the_agents_passing_list_and_an_outage_keeps_the_last_list()
    {
        await using var a = await TestUpstream.StartAsync("a");
        await using var b = await TestUpstream.StartAsync("b");
        await using var consul = new FakeConsul(requiredToken: Token);
        await consul.StartAsync();
        consul.Set("orders", [Entry(a)]);
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString, new Dictionary<string, string?>
        {
            ["FuncGateway:Discovery:Consul:Address"] = consul.BaseAddress.ToString(),
            ["FuncGateway:Discovery:Consul:Token"] = Token,
            ["FuncGateway:Discovery:Consul:WaitSeconds"] = "5",
            ["FuncGateway:Registry:RefreshIntervalSeconds"] = "5",
        });
        await gateway.Upstreams!.UpsertEntityAsync(new TableEntity("default", "orders") { ["Discovery"] = "{\"Source\":\"consul\",\"Service\":\"orders\"}" });
        await gateway.UpsertRouteAsync("orders", "/orders/{**rest}", "orders");
        await gateway.ReloadAsync();

        await Waiting.UntilAsync(async () => (await gateway.Client.GetAsync("/orders/1")).IsSuccessStatusCode, PushDiscovery.Patience, "a to be served");
        Assert.All(consul.Requests, static request => Assert.Equal(Token, request.Token));
        await using var traffic = new DiscoveryTraffic(gateway, "/orders/1");

        // b registers: it gets requests.
        consul.Set("orders", [Entry(a), Entry(b)]);
        await Waiting.UntilAsync(() => b.RequestCount > 0, PushDiscovery.Patience, "b to get requests");
        Assert.Equal(new[] { Url(a), Url(b) }.Order(), await DiscoveryView.ServedUrlsAsync(gateway, "orders"));

        // a's health check turns critical: after the bound it gets nothing more, though it still answers.
        consul.Set("orders", [Entry(a, passing: false), Entry(b)]);
        await Task.Delay(PushDiscovery.RefreshBound);
        var toA = a.RequestCount;
        Assert.All(await traffic.NextAsync(30), static answer => Assert.Equal("b", answer));
        Assert.Equal(toA, a.RequestCount);
        Assert.Equal([Url(b)], await DiscoveryView.ServedUrlsAsync(gateway, "orders"));

        // The agent goes away: b keeps serving and the pool says the list is stale, without showing the token.
        await consul.StopAsync();
        await DiscoveryView.AssertOutageKeepsLastListAsync(gateway, traffic, "consul", Token, "b", [Url(b)]);
        Assert.All(traffic.Answers, static answer => Assert.Contains(answer, new[] { "a", "b" }));
    }
}
