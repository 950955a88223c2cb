using System.Net;
using System.Net.Http.Json;
using Azure.Data.Tables;
using FuncGateway.Server.Tests.Diagnostics;
using FuncGateway.Server.Tests.Infrastructure;
using FuncGateway.Server.Tests.Resilience;
using FuncGateway.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;

namespace FuncGateway.Server.Tests.Discovery;

/// <summary>
/// Self-registration end to end: real Azurite, a real gateway, real Kestrel upstreams registering through the admin
/// API, by writing rows, and with the FuncGateway.Backend helper.
/// </summary>
[Collection("Azurite")]
public sealed class RegistrationDiscoveryTests(AzuriteFixture azurite)
{
    // RefreshSeconds is 1: a registration, deregistration or lapsed lease is served within one read, plus slack.
    private static readonly TimeSpan RefreshBound = TimeSpan.FromSeconds(1 + 2);
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private static readonly Dictionary<string, string?> Settings = new()
    {
        ["FuncGateway:Discovery:Registration:RefreshSeconds"] = "1",
        ["FuncGateway:Registry:RefreshIntervalSeconds"] = "5",
    };

    private static async Task<GatewayHost> StartGatewayAsync(AzuriteFixture azurite)
    {
        var gateway = await GatewayHost.StartAsync(azurite.ConnectionString, Settings);
        await gateway.Upstreams!.UpsertEntityAsync(new TableEntity("default", "orders") { ["Discovery"] = "{\"Source\":\"registration\"}" });
        await gateway.UpsertRouteAsync("orders", "/orders/{**rest}", "orders");
        await gateway.ReloadAsync();
        return gateway;
    }

    private static async Task<HttpResponseMessage> SendAsync(GatewayHost gateway, HttpMethod method, string path, object? body = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
        request.Headers.Add("X-Admin-Key", GatewayHost.AdminKey);
        return await gateway.Client.SendAsync(request);
    }

    [Fact]
    public async Task Instances_join_through_the_admin_api_or_a_row_and_leave_on_deregistration_or_a_lapsed_lease()
    {
        await using var a = await TestUpstream.StartAsync("a");
        await using var b = await TestUpstream.StartAsync("b");
        await using var gateway = await StartGatewayAsync(azurite);

        // Nobody registered yet: the pool has no instance.
        await Problem.AssertAsync(await gateway.Client.GetAsync("/orders/1"), HttpStatusCode.ServiceUnavailable, "no_upstream_available");

        using var registered = await SendAsync(gateway, HttpMethod.Put, "/_gateway/pools/orders/instances/a-1", new { url = a.BaseAddress.ToString(), weight = 2, leaseSeconds = 60 });
        Assert.Equal(HttpStatusCode.OK, registered.StatusCode);
        var registration = await registered.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>();
        Assert.Equal(a.BaseAddress.ToString().TrimEnd('/'), registration.GetProperty("url").GetString());
        Assert.Equal(60, registration.GetProperty("leaseSeconds").GetInt32());
        await Waiting.UntilAsync(async () => (await gateway.Client.GetAsync("/orders/1")).IsSuccessStatusCode, Patience, "a to be served");
        await using var traffic = new DiscoveryTraffic(gateway, "/orders/1");

        // b writes its own row. Its lease outlasts a's deregistration below, however slow the machine (a 6 s lease
        // could lapse while that part was still sending to b); b shortens it afterwards and then does not renew it.
        var instances = new TableServiceClient(azurite.ConnectionString).GetTableClient(gateway.TablePrefix + "Instances");
        await instances.UpsertEntityAsync(new TableEntity("orders", "b-1")
        {
            ["Url"] = b.BaseAddress.ToString(),
            ["LeaseExpiresAt"] = DateTimeOffset.UtcNow.AddSeconds(120),
        });
        await Waiting.UntilAsync(() => b.RequestCount > 0, Patience, "b to get requests");

        // a deregisters: after one refresh it gets nothing more.
        using var deleted = await SendAsync(gateway, HttpMethod.Delete, "/_gateway/pools/orders/instances/a-1");
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        await Task.Delay(RefreshBound);
        var toA = a.RequestCount;
        Assert.All(await traffic.NextAsync(20), answer => Assert.Equal("b", answer));
        Assert.Equal(toA, a.RequestCount);

        // b's lease lapses: the pool is empty again, and the admin view says when it last looked.
        await instances.UpsertEntityAsync(new TableEntity("orders", "b-1")
        {
            ["Url"] = b.BaseAddress.ToString(),
            ["LeaseExpiresAt"] = DateTimeOffset.UtcNow.AddSeconds(2),
        });
        await Waiting.UntilAsync(async () => (await DiscoveryView.ServedUrlsAsync(gateway, "orders")).Length == 0, Patience, "b's lease to lapse");
        await Task.Delay(200);
        var toB = b.RequestCount;
        Assert.All(await traffic.NextAsync(10), answer => Assert.StartsWith("503", answer));
        Assert.Equal(toB, b.RequestCount);
        var discovery = (await DiscoveryView.PoolAsync(gateway, "orders")).GetProperty("discovery");
        Assert.Equal("registration", discovery.GetProperty("source").GetString());
        Assert.Equal("ok", discovery.GetProperty("state").GetString());
        Assert.True(discovery.GetProperty("lastRefreshedAt").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddSeconds(-5));
    }

    [Fact]
    public async Task A_registration_row_with_a_value_of_the_wrong_type_is_skipped_saying_so_not_that_it_is_missing()
    {
        await using var a = await TestUpstream.StartAsync("a");
        var capture = new TelemetryCapture();
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString, Settings, logging: capture.AddTo);
        await gateway.Upstreams!.UpsertEntityAsync(new TableEntity("default", "orders") { ["Discovery"] = "{\"Source\":\"registration\"}" });
        await gateway.UpsertRouteAsync("orders", "/orders/{**rest}", "orders");
        await gateway.ReloadAsync();

        var instances = new TableServiceClient(azurite.ConnectionString).GetTableClient(gateway.TablePrefix + "Instances");
        await instances.CreateIfNotExistsAsync();
        var lease = DateTimeOffset.UtcNow.AddSeconds(120);
        await instances.UpsertEntityAsync(new TableEntity("orders", "numeric-url") { ["Url"] = 8080, ["LeaseExpiresAt"] = lease });
        await instances.UpsertEntityAsync(new TableEntity("orders", "no-url") { ["LeaseExpiresAt"] = lease });
        await instances.UpsertEntityAsync(new TableEntity("orders", "text-lease") { ["Url"] = a.BaseAddress.ToString(), ["LeaseExpiresAt"] = "tomorrow" });
        await instances.UpsertEntityAsync(new TableEntity("orders", "good") { ["Url"] = a.BaseAddress.ToString(), ["LeaseExpiresAt"] = lease });
        await Waiting.UntilAsync(async () => (await gateway.Client.GetAsync("/orders/1")).IsSuccessStatusCode, Patience, "the good row to be served");

        string[] Skipped() => [.. capture.Logs.Records.Where(r => r.EventId.Id == 8605).Select(r => r.Message)];
        await Waiting.UntilAsync(() => Skipped().Length >= 3, Patience, "three skipped rows to be logged");
        Assert.Contains(Skipped(), m => m.Contains("'numeric-url'", StringComparison.Ordinal) && m.EndsWith("Url must be a string, not an Int32.", StringComparison.Ordinal));
        Assert.Contains(Skipped(), m => m.Contains("'no-url'", StringComparison.Ordinal) && m.EndsWith("Url is missing.", StringComparison.Ordinal));
        Assert.Contains(Skipped(), m => m.Contains("'text-lease'", StringComparison.Ordinal) && m.EndsWith("LeaseExpiresAt must be a DateTime, not a string.", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_discovered_instance_is_health_checked_like_a_static_one()
    {
        await using var healthy = await ControllableUpstream.StartAsync("healthy");
        await using var sick = await ControllableUpstream.StartAsync("sick");
        sick.HealthStatus = 503;
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString, new Dictionary<string, string?>(Settings)
        {
            ["FuncGateway:Health:ProbeTickSeconds"] = "0.1",
            ["FuncGateway:Health:RefreshIntervalSeconds"] = "0.2",
        });
        await gateway.Upstreams!.UpsertEntityAsync(new TableEntity("default", "orders")
        {
            ["Discovery"] = "{\"Source\":\"registration\"}",
            ["HealthCheck"] = """{"path":"/health","intervalSeconds":0.3,"timeoutSeconds":0.3,"unhealthyThreshold":2,"healthyThreshold":2}""",
        });
        await gateway.UpsertRouteAsync("orders", "/orders/{**rest}", "orders");
        await gateway.ReloadAsync();
        foreach (var upstream in new[] { healthy, sick })
        {
            using var registered = await SendAsync(gateway, HttpMethod.Put, $"/_gateway/pools/orders/instances/{upstream.Name}", new { url = upstream.BaseAddress.ToString(), leaseSeconds = 60 });
            Assert.Equal(HttpStatusCode.OK, registered.StatusCode);
        }

        // The prober finds the sick instance and marks it unhealthy; from then on it gets only probes.
        await Waiting.UntilAsync(() => sick.HealthChecks >= 4 && healthy.HealthChecks >= 2, Patience, "both discovered instances to be probed");
        await Task.Delay(RefreshBound);
        var toSick = sick.Requests;
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal("healthy", (await Echo.ReadAsync(await gateway.Client.GetAsync("/orders/1"))).Instance);
        }

        Assert.Equal(toSick, sick.Requests);
    }

    [Fact]
    public async Task A_storage_outage_keeps_the_last_registered_instances_serving()
    {
        // A storage account of its own, so this test can take it away.
        await using var storage = await AzuriteInstance.StartAsync();
        await using var a = await TestUpstream.StartAsync("a");
        await using var gateway = await GatewayHost.StartAsync(storage.ConnectionString, Settings);
        await gateway.Upstreams!.UpsertEntityAsync(new TableEntity("default", "orders") { ["Discovery"] = "{\"Source\":\"registration\"}" });
        await gateway.UpsertRouteAsync("orders", "/orders/{**rest}", "orders");
        await gateway.ReloadAsync();
        using var registered = await SendAsync(gateway, HttpMethod.Put, "/_gateway/pools/orders/instances/a-1", new { url = a.BaseAddress.ToString(), leaseSeconds = 300 });
        Assert.Equal(HttpStatusCode.OK, registered.StatusCode);
        await Waiting.UntilAsync(async () => (await gateway.Client.GetAsync("/orders/1")).IsSuccessStatusCode, Patience, "a to be served");
        await using var traffic = new DiscoveryTraffic(gateway, "/orders/1");

        await storage.StopAsync();
        await Waiting.UntilAsync(
            async () => (await DiscoveryView.PoolAsync(gateway, "orders")).GetProperty("discovery").GetProperty("state").GetString() == "stale", Patience, "the source to notice the outage");

        Assert.All(await traffic.NextAsync(30), answer => Assert.Equal("a", answer));
        var discovery = (await DiscoveryView.PoolAsync(gateway, "orders")).GetProperty("discovery");
        Assert.Contains(gateway.TablePrefix + "Instances", discovery.GetProperty("lastError").GetString(), StringComparison.Ordinal);
        Assert.Equal([a.BaseAddress.ToString().TrimEnd('/')], discovery.GetProperty("instances").EnumerateArray().Select(i => i.GetProperty("url").GetString()));

        // A renewal during the outage says it was not recorded.
        await Problem.AssertAsync(
            await SendAsync(gateway, HttpMethod.Put, "/_gateway/pools/orders/instances/a-1", new { url = a.BaseAddress.ToString() }), HttpStatusCode.ServiceUnavailable, "registration_not_recorded");
    }

    [Fact]
    public async Task A_registration_while_storage_throttles_with_a_long_retry_after_is_answered_503_at_once_not_after_the_pause()
    {
        await using var proxy = StorageFaultProxy.Start(azurite.Azurite);
        await using var a = await TestUpstream.StartAsync("a");
        await using var gateway = await GatewayHost.StartAsync(proxy.ConnectionString, Settings);
        await gateway.Upstreams!.UpsertEntityAsync(new TableEntity("default", "orders") { ["Discovery"] = "{\"Source\":\"registration\"}" });
        await gateway.UpsertRouteAsync("orders", "/orders/{**rest}", "orders");
        await gateway.ReloadAsync();

        // Storage throttles every call and asks for an hour's pause. The storage client used to wait the pause out
        // before its one retry, so the registration call was held for the hour (the caller's own timeout came first).
        // Now a pause longer than a second is not waited for: the call fails at once and says so.
        proxy.Fail(503, retryAfter: "3600");
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var request = new HttpRequestMessage(HttpMethod.Put, "/_gateway/pools/orders/instances/a-1") { Content = JsonContent.Create(new { url = a.BaseAddress.ToString() }) };
        request.Headers.Add("X-Admin-Key", GatewayHost.AdminKey);
        using var response = await gateway.Client.SendAsync(request, patience.Token);
        await Problem.AssertAsync(response, HttpStatusCode.ServiceUnavailable, "registration_not_recorded");
        Assert.NotEmpty(proxy.Faulted);

        // Storage answers again: the next registration is recorded.
        proxy.Pass();
        using var registered = await SendAsync(gateway, HttpMethod.Put, "/_gateway/pools/orders/instances/a-1", new { url = a.BaseAddress.ToString() });
        Assert.Equal(HttpStatusCode.OK, registered.StatusCode);
    }

    [Fact]
    public async Task A_registration_table_that_goes_away_is_an_outage_not_an_empty_pool()
    {
        await using var a = await TestUpstream.StartAsync("a");
        await using var gateway = await StartGatewayAsync(azurite);
        using var registered = await SendAsync(gateway, HttpMethod.Put, "/_gateway/pools/orders/instances/a-1", new { url = a.BaseAddress.ToString(), leaseSeconds = 300 });
        Assert.Equal(HttpStatusCode.OK, registered.StatusCode);
        await Waiting.UntilAsync(async () => (await gateway.Client.GetAsync("/orders/1")).IsSuccessStatusCode, Patience, "a to be served");
        await using var traffic = new DiscoveryTraffic(gateway, "/orders/1");

        // A storage account reset, an emulator restarted in memory: the table is gone.
        await new TableServiceClient(azurite.ConnectionString).GetTableClient(gateway.TablePrefix + "Instances").DeleteAsync();
        await Waiting.UntilAsync(
            async () => (await DiscoveryView.PoolAsync(gateway, "orders")).GetProperty("discovery").GetProperty("state").GetString() == "stale", Patience, "the source to notice");

        Assert.All(await traffic.NextAsync(20), answer => Assert.Equal("a", answer));

        // The instance's next renewal makes the table again, and the pool reads it as before.
        using var renewed = await SendAsync(gateway, HttpMethod.Put, "/_gateway/pools/orders/instances/a-1", new { url = a.BaseAddress.ToString(), leaseSeconds = 300 });
        Assert.Equal(HttpStatusCode.OK, renewed.StatusCode);

        await Waiting.UntilAsync(
            async () => (await DiscoveryView.PoolAsync(gateway, "orders")).GetProperty("discovery").GetProperty("state").GetString() == "ok", Patience, "the source to read again");
    }

    [Fact]
    public async Task Registrations_are_checked_and_only_pools_with_the_registration_source_take_them()
    {
        await using var gateway = await StartGatewayAsync(azurite);
        await gateway.UpsertUpstreamAsync("static", new Uri("http://127.0.0.1:9"));
        await gateway.ReloadAsync();

        await Problem.AssertAsync(await SendAsync(gateway, HttpMethod.Put, "/_gateway/pools/orders/instances/x", new { url = "ftp://10.0.0.1" }), HttpStatusCode.BadRequest, "invalid_registration");
        await Problem.AssertAsync(await SendAsync(gateway, HttpMethod.Put, "/_gateway/pools/orders/instances/x", new { url = "http://169.254.169.254" }), HttpStatusCode.BadRequest, "invalid_registration");
        await Problem.AssertAsync(await SendAsync(gateway, HttpMethod.Put, "/_gateway/pools/orders/instances/x", new { url = "http://10.0.0.1", leaseSeconds = 1 }), HttpStatusCode.BadRequest, "invalid_registration");
        await Problem.AssertAsync(await SendAsync(gateway, HttpMethod.Put, "/_gateway/pools/orders/instances/a%20b", new { url = "http://10.0.0.1" }), HttpStatusCode.BadRequest, "invalid_registration");
        await Problem.AssertAsync(await SendAsync(gateway, HttpMethod.Put, "/_gateway/pools/static/instances/x", new { url = "http://10.0.0.1" }), HttpStatusCode.NotFound, "unknown_pool");
        await Problem.AssertAsync(await SendAsync(gateway, HttpMethod.Put, "/_gateway/pools/nope/instances/x", new { url = "http://10.0.0.1" }), HttpStatusCode.NotFound, "unknown_pool");
        await Problem.AssertAsync(await SendAsync(gateway, HttpMethod.Get, "/_gateway/pools/orders/instances/x"), HttpStatusCode.MethodNotAllowed, "method_not_allowed");
        using var noKey = new HttpRequestMessage(HttpMethod.Put, "/_gateway/pools/orders/instances/x") { Content = JsonContent.Create(new { url = "http://10.0.0.1" }) };
        await Problem.AssertAsync(await gateway.Client.SendAsync(noKey), HttpStatusCode.Unauthorized, "admin_unauthorized");
    }

    [Fact]
    public async Task Bad_discovery_properties_reject_the_pool_with_the_reason()
    {
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString);
        await gateway.Upstreams!.UpsertEntityAsync(new TableEntity("default", "unknown") { ["Discovery"] = "{\"Source\":\"carrier-pigeon\"}" });
        await gateway.Upstreams!.UpsertEntityAsync(new TableEntity("default", "noport") { ["Discovery"] = "{\"Source\":\"dns\",\"Name\":\"orders.internal\",\"Colour\":1}" });
        await gateway.Upstreams!.UpsertEntityAsync(new TableEntity("default", "nosource") { ["Discovery"] = "{\"Name\":\"orders.internal\"}" });
        await gateway.Upstreams!.UpsertEntityAsync(new TableEntity("default", "nothing") { ["LoadBalancing"] = "RoundRobin" });
        await gateway.ReloadAsync();

        var rejected = await gateway.RejectedReasonsAsync();
        Assert.Contains("unknown Source 'carrier-pigeon'. Known: consul, dns, kubernetes, registration, srv", rejected["unknown"]);
        Assert.Contains("Discovery (dns): unknown field \"Colour\"", rejected["noport"]);
        Assert.Contains("Discovery (dns): \"Port\" is required", rejected["noport"]);
        Assert.Contains("Discovery needs a \"Source\"", rejected["nosource"]);
        Assert.Contains("a pool needs at least one instance (or a Discovery source)", rejected["nothing"]);
    }

    [Fact]
    public async Task The_backend_helper_registers_on_start_renews_and_deregisters_on_graceful_shutdown()
    {
        await using var gateway = await StartGatewayAsync(azurite);
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        builder.Services.AddGatewayRegistration(o =>
        {
            o.GatewayUrl = gateway.Client.BaseAddress;
            o.AdminKey = GatewayHost.AdminKey;
            o.Pool = "orders";
            o.InstanceId = "helper-1";
            o.LeaseSeconds = 6;
        });
        await using var app = builder.Build();
        app.Run(context => FuncGateway.Samples.Echo.EchoHandler.HandleAsync(context, "helper"));
        await app.StartAsync();

        await Waiting.UntilAsync(async () => (await gateway.Client.GetAsync("/orders/1")).IsSuccessStatusCode, Patience, "the helper's instance to be served");
        Assert.Equal("helper", (await Echo.ReadAsync(await gateway.Client.GetAsync("/orders/1"))).Instance);

        // Renewed before its 6 s lease lapses: still served well after it.
        await Task.Delay(TimeSpan.FromSeconds(8));
        Assert.Equal("helper", (await Echo.ReadAsync(await gateway.Client.GetAsync("/orders/1"))).Instance);

        // A graceful stop deregisters: the row is gone at once, and the pool is empty within one refresh.
        await app.StopAsync();
        var instances = new TableServiceClient(azurite.ConnectionString).GetTableClient(gateway.TablePrefix + "Instances");
        Assert.False((await instances.GetEntityIfExistsAsync<TableEntity>("orders", "helper-1")).HasValue);
        await Task.Delay(RefreshBound);
        Assert.Empty(await DiscoveryView.ServedUrlsAsync(gateway, "orders"));
    }
}
