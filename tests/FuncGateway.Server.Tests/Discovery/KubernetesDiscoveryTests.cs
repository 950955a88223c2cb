using System.Net;
using Azure.Data.Tables;
using FuncGateway.Server.Tests.Infrastructure;
using FuncGateway.Testing;
using FuncGateway.Testing.Discovery;

namespace FuncGateway.Server.Tests.Discovery;

/// <summary>
/// The kubernetes source end to end: a real gateway reaching a protocol fake of the API server (EndpointSlice list and
/// watch) through a generated kubeconfig, forwarding to real Kestrel upstreams on 127.0.0.2 and 127.0.0.3 (one port,
/// as pods behind a Service) while the slices change and then the API server goes away.
/// </summary>
[Collection("Azurite")]
public sealed class KubernetesDiscoveryTests(AzuriteFixture azurite)
{
    private const string Token = "sa-token-e2e-91b4";

    [Fact]
    public async Task Ready_endpoints_are_served_a_not_ready_one_is_dropped_and_an_outage_keeps_the_last_list()
    {
        var port = LoopbackPorts.GetFree();
        await using var a = await TestUpstream.StartAsync("a", new IPEndPoint(IPAddress.Parse("127.0.0.2"), port));
        await using var b = await TestUpstream.StartAsync("b", new IPEndPoint(IPAddress.Parse("127.0.0.3"), port));
        var (urlA, urlB) = ($"http://127.0.0.2:{port}", $"http://127.0.0.3:{port}");
        await using var api = new FakeKubernetesApi(Token);
        await api.StartAsync();
        static System.Text.Json.Nodes.JsonObject Slice(int port, params SliceEndpoint[] endpoints) =>
            FakeKubernetesApi.Slice("orders-abc", "orders", "IPv4", [("http", port), ("metrics", 9090)], endpoints);
        api.Apply(Slice(port, new SliceEndpoint("127.0.0.2", Ready: true)));
        var kubeconfig = Path.Combine(Path.GetTempPath(), $"fgw-kubeconfig-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(kubeconfig, FakeKubernetesApi.Kubeconfig(api.Port, Token));
        try
        {
            await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString, new Dictionary<string, string?>
            {
                ["FuncGateway:Discovery:Kubernetes:Kubeconfig"] = kubeconfig,
                ["FuncGateway:Registry:RefreshIntervalSeconds"] = "5",
            });
            await gateway.Upstreams!.UpsertEntityAsync(new TableEntity("default", "orders")
            {
                ["Discovery"] = "{\"Source\":\"kubernetes\",\"Namespace\":\"shop\",\"Service\":\"orders\",\"PortName\":\"http\"}",
            });
            await gateway.UpsertRouteAsync("orders", "/orders/{**rest}", "orders");
            await gateway.ReloadAsync();

            await Waiting.UntilAsync(async () => (await gateway.Client.GetAsync("/orders/1")).IsSuccessStatusCode, PushDiscovery.Patience, "a to be served");
            await using var traffic = new DiscoveryTraffic(gateway, "/orders/1");

            // A second pod becomes ready: it gets requests.
            api.Apply(Slice(port, new SliceEndpoint("127.0.0.2", Ready: true), new SliceEndpoint("127.0.0.3", Ready: true)));
            await Waiting.UntilAsync(() => b.RequestCount > 0, PushDiscovery.Patience, "b to get requests");
            Assert.Equal([urlA, urlB], await DiscoveryView.ServedUrlsAsync(gateway, "orders"));

            // The first pod turns not ready (it still answers): after the bound it gets nothing more.
            api.Apply(Slice(port, new SliceEndpoint("127.0.0.2", Ready: false), new SliceEndpoint("127.0.0.3", Ready: true)));
            await Task.Delay(PushDiscovery.RefreshBound);
            var toA = a.RequestCount;
            Assert.All(await traffic.NextAsync(30), static answer => Assert.Equal("b", answer));
            Assert.Equal(toA, a.RequestCount);
            Assert.Equal([urlB], await DiscoveryView.ServedUrlsAsync(gateway, "orders"));

            // The API server goes away: b keeps serving and the pool says the list is stale.
            await api.StopAsync();
            await DiscoveryView.AssertOutageKeepsLastListAsync(gateway, traffic, "kubernetes", Token, "b", [urlB]);
            Assert.All(traffic.Answers, static answer => Assert.Contains(answer, new[] { "a", "b" }));
        }
        finally
        {
            File.Delete(kubeconfig);
        }
    }
}
