using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Azure.Data.Tables;
using FuncGateway.Server.Tests.Infrastructure;
using FuncGateway.Testing;

namespace FuncGateway.Server.Tests.Discovery;

/// <summary>
/// Discovery against a hostile registering client and a careless operator: what a registration may point at, how many
/// instances a pool may be given, and DNS answers no instance can be reached at (port 0, 0.0.0.0, a "no service" SRV
/// record), through a real gateway with Azurite, real Kestrel upstreams and a real dnsmasq.
/// </summary>
[Collection("Azurite")]
public sealed class DiscoveryHostileTests(AzuriteFixture azurite)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private static async Task<GatewayHost> StartRegistrationGatewayAsync(AzuriteFixture azurite, params (string Key, string Value)[] extra)
    {
        var settings = new Dictionary<string, string?>
        {
            ["FuncGateway:Discovery:Registration:RefreshSeconds"] = "1",
            ["FuncGateway:Registry:RefreshIntervalSeconds"] = "5",
        };
        foreach (var (key, value) in extra)
        {
            settings[key] = value;
        }

        var gateway = await GatewayHost.StartAsync(azurite.ConnectionString, settings);
        await gateway.Upstreams!.UpsertEntityAsync(new TableEntity("default", "orders") { ["Discovery"] = "{\"Source\":\"registration\"}" });
        await gateway.UpsertRouteAsync("orders", "/orders/{**rest}", "orders");
        await gateway.ReloadAsync();
        return gateway;
    }

    private static async Task<HttpResponseMessage> PutAsync(GatewayHost gateway, string id, string url)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, $"/_gateway/pools/orders/instances/{id}") { Content = JsonContent.Create(new { url, leaseSeconds = 300 }) };
        request.Headers.Add("X-Admin-Key", GatewayHost.AdminKey);
        return await gateway.Client.SendAsync(request);
    }

    [Theory]
    [InlineData("http://127.0.0.1:0", "port 0")]
    [InlineData("http://0.0.0.0:8080", "unspecified address")]
    [InlineData("http://0:8080", "unspecified address")]
    [InlineData("http://0.1.2.3:8080", "unspecified address")]
    [InlineData("http://[::]:8080", "unspecified address")]
    [InlineData("http://[::ffff:0.0.0.0]:8080", "unspecified address")]
    [InlineData("http://[fe80::1%25eth0]:8080", "link-local")]
    [InlineData("http://2852039166/", "link-local")]
    [InlineData("http://user:secret@127.0.0.1:8080", "credentials")]
    [InlineData("http://127.0.0.1:8080/#x", "fragment")]
    public async Task A_registration_cannot_point_at_port_0_the_unspecified_address_or_what_the_allowlist_always_refuses(string url, string reason)
    {
        await using var gateway = await StartRegistrationGatewayAsync(azurite);

        // Each of these would make the pool send requests to nothing (port 0) or to the gateway's own machine (0.0.0.0
        // and :: are connected to as this host), or carry what the gateway never forwards.
        var problem = await Problem.AssertAsync(await PutAsync(gateway, "x-1", url), HttpStatusCode.BadRequest, "invalid_registration");
        Assert.Contains(reason, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain("secret", problem.GetRawText(), StringComparison.Ordinal);
        var rows = new TableServiceClient(azurite.ConnectionString).GetTableClient(gateway.TablePrefix + "Instances");
        Assert.Empty(await RowKeysAsync(rows));
    }

    [Fact]
    public async Task A_pool_takes_at_most_MaxInstancesPerPool_registrations_and_lapsed_rows_are_cleaned_up()
    {
        await using var gateway = await StartRegistrationGatewayAsync(azurite, ("FuncGateway:Discovery:MaxInstancesPerPool", "3"));
        var rows = new TableServiceClient(azurite.ConnectionString).GetTableClient(gateway.TablePrefix + "Instances");
        await rows.CreateIfNotExistsAsync();

        // An instance that died without deregistering long ago: its row lapsed and nobody removed it.
        await rows.UpsertEntityAsync(new TableEntity("orders", "dead-1") { ["Url"] = "http://127.0.0.1:9", ["LeaseExpiresAt"] = DateTimeOffset.UtcNow.AddHours(-1) });

        // A registration key holder (here the admin key: the limit is the pool's, whoever asks) registers id after id.
        for (var i = 1; i <= 3; i++)
        {
            using var ok = await PutAsync(gateway, $"r-{i}", $"http://127.0.0.1:{10000 + i}");
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        Assert.Equal(["r-1", "r-2", "r-3"], await RowKeysAsync(rows));
        var refused = await Problem.AssertAsync(await PutAsync(gateway, "r-4", "http://127.0.0.1:10004"), HttpStatusCode.Conflict, "registration_limit");
        Assert.Contains("MaxInstancesPerPool is 3", refused.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain("r-4", await RowKeysAsync(rows));

        // A renewal is not a new instance; after a deregistration a new id fits again.
        using (var renewed = await PutAsync(gateway, "r-2", "http://127.0.0.1:10002"))
        {
            Assert.Equal(HttpStatusCode.OK, renewed.StatusCode);
        }

        using (var deleted = await gateway.Client.SendAsync(new HttpRequestMessage(HttpMethod.Delete, "/_gateway/pools/orders/instances/r-3") { Headers = { { "X-Admin-Key", GatewayHost.AdminKey } } }))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }

        using (var fits = await PutAsync(gateway, "r-4", "http://127.0.0.1:10004"))
        {
            Assert.Equal(HttpStatusCode.OK, fits.StatusCode);
        }

        // Rows written past the API (anyone with table access): the pool still serves at most 3, and says what it left out.
        for (var i = 1; i <= 3; i++)
        {
            await rows.UpsertEntityAsync(new TableEntity("orders", $"w-{i}") { ["Url"] = $"http://127.0.0.1:{20000 + i}", ["LeaseExpiresAt"] = DateTimeOffset.UtcNow.AddMinutes(5) });
        }

        await Waiting.UntilAsync(
            async () => (await DiscoveryView.PoolAsync(gateway, "orders")).GetProperty("discovery").GetProperty("skipped").GetRawText().Contains("MaxInstancesPerPool", StringComparison.Ordinal),
            Patience, "the pool to leave instances out");
        var pool = await DiscoveryView.PoolAsync(gateway, "orders");
        var expected = new[] { "http://127.0.0.1:10001", "http://127.0.0.1:10002", "http://127.0.0.1:10004" };
        Assert.Equal(expected, await DiscoveryView.ServedUrlsAsync(gateway, "orders"));
        Assert.Equal(expected, pool.GetProperty("discovery").GetProperty("instances").EnumerateArray().Select(static i => i.GetProperty("url").GetString()));
        Assert.Contains("3 of 6 instances left out", pool.GetProperty("discovery").GetProperty("skipped")[0].GetProperty("reason").GetString(), StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task A_dns_name_that_also_resolves_to_0_0_0_0_or_the_metadata_address_serves_only_its_real_address()
    {
        DnsAvailable();
        var port = LoopbackPorts.GetFree();
        await using var a = await TestUpstream.StartAsync("a", new IPEndPoint(IPAddress.Parse("127.0.0.2"), port));

        // A sinkhole's 0.0.0.0 (connected to as this machine) and the metadata service next to the real address.
        await using var dns = await Dnsmasq.StartAsync([("0.0.0.0", "orders.internal"), ("169.254.169.254", "orders.internal"), ("127.0.0.2", "orders.internal")]);
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString, DnsSettings(dns));
        await gateway.Upstreams!.UpsertEntityAsync(new TableEntity("default", "orders")
        {
            ["Discovery"] = $"{{\"Source\":\"dns\",\"Name\":\"orders.internal\",\"Port\":{port}}}",
        });
        await gateway.UpsertRouteAsync("orders", "/orders/{**rest}", "orders");
        await gateway.ReloadAsync();

        await Waiting.UntilAsync(async () => (await DiscoveryView.ServedUrlsAsync(gateway, "orders")).Length > 0, Patience, "the pool to get its discovered list");
        Assert.Equal([$"http://127.0.0.2:{port}"], await DiscoveryView.ServedUrlsAsync(gateway, "orders"));
        var skipped = (await DiscoveryView.PoolAsync(gateway, "orders")).GetProperty("discovery").GetProperty("skipped").EnumerateArray()
            .ToDictionary(static s => s.GetProperty("url").GetString()!, static s => s.GetProperty("reason").GetString()!);
        Assert.Contains("unspecified address", skipped[$"http://0.0.0.0:{port}"], StringComparison.Ordinal);
        Assert.Contains("link-local or cloud metadata", skipped[$"http://169.254.169.254:{port}"], StringComparison.Ordinal);
        for (var i = 0; i < 10; i++)
        {
            using var response = await gateway.Client.GetAsync("/orders/1");
            Assert.Equal("a", (await Echo.ReadAsync(response)).Instance);
        }
    }

    [SkippableFact]
    public async Task Srv_port_0_is_skipped_and_a_no_service_record_empties_the_pool_instead_of_an_outage()
    {
        DnsAvailable();
        await using var x = await TestUpstream.StartAsync("x");
        const string Host = "--host-record=host.internal,127.0.0.1";
        var good = $"--srv-host=_http._tcp.orders.internal,host.internal,{x.BaseAddress.Port},0,1";
        await using var dns = await Dnsmasq.StartAsync([], Host, good, "--srv-host=_http._tcp.orders.internal,host.internal,0,0,5");
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString, DnsSettings(dns));
        await gateway.Upstreams!.UpsertEntityAsync(new TableEntity("default", "orders") { ["Discovery"] = "{\"Source\":\"srv\",\"Name\":\"_http._tcp.orders.internal\"}" });
        await gateway.UpsertRouteAsync("orders", "/orders/{**rest}", "orders");
        await gateway.ReloadAsync();

        // The port-0 record is not an instance (every request sent there would fail and trip its breaker).
        await Waiting.UntilAsync(async () => (await DiscoveryView.ServedUrlsAsync(gateway, "orders")).Length > 0, Patience, "the pool to get its discovered list");
        Assert.Equal([$"http://127.0.0.1:{x.BaseAddress.Port}"], await DiscoveryView.ServedUrlsAsync(gateway, "orders"));
        var discovery = (await DiscoveryView.PoolAsync(gateway, "orders")).GetProperty("discovery");
        Assert.Contains("port 0", Assert.Single(discovery.GetProperty("skipped").EnumerateArray()).GetProperty("reason").GetString(), StringComparison.Ordinal);

        // The operator marks the service "decidedly not available" (RFC 2782: target "."): an answer, so the pool is
        // emptied and shows ok, not an outage that keeps sending to x.
        await dns.RestartAsync(Host, "--srv-host=_http._tcp.orders.internal");
        await Waiting.UntilAsync(async () => (await DiscoveryView.ServedUrlsAsync(gateway, "orders")).Length == 0, Patience, "the pool to be emptied");
        discovery = (await DiscoveryView.PoolAsync(gateway, "orders")).GetProperty("discovery");
        Assert.Equal("ok", discovery.GetProperty("state").GetString());
        Assert.Equal(JsonValueKind.Null, discovery.GetProperty("lastError").ValueKind);
        await Problem.AssertAsync(await gateway.Client.GetAsync("/orders/1"), HttpStatusCode.ServiceUnavailable, "no_upstream_available");
    }

    private static Dictionary<string, string?> DnsSettings(Dnsmasq dns) => new()
    {
        ["FuncGateway:Discovery:Dns:Servers"] = dns.Server,
        ["FuncGateway:Discovery:Dns:MinTtlSeconds"] = "1",
        ["FuncGateway:Discovery:Dns:MaxTtlSeconds"] = "1",
        ["FuncGateway:Discovery:Dns:TimeoutSeconds"] = "1",
        ["FuncGateway:Registry:RefreshIntervalSeconds"] = "5",
    };

    private static void DnsAvailable()
    {
        if (!Dnsmasq.Installed)
        {
            Assert.False(Dnsmasq.Required, Dnsmasq.Missing);
            Skip.If(true, Dnsmasq.Missing);
        }
    }

    private static async Task<string[]> RowKeysAsync(TableClient rows)
    {
        var keys = new List<string>();
        try
        {
            await foreach (var row in rows.QueryAsync<TableEntity>("PartitionKey eq 'orders'", select: ["RowKey"]))
            {
                keys.Add(row.RowKey);
            }
        }
        catch (Azure.RequestFailedException ex) when (ex.Status == 404)
        {
        }

        return [.. keys.Order(StringComparer.Ordinal)];
    }
}
