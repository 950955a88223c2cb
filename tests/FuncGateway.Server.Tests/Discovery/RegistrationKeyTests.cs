using System.Net;
using System.Net.Http.Json;
using Azure.Data.Tables;
using FuncGateway.Server.Tests.Infrastructure;
using FuncGateway.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;

namespace FuncGateway.Server.Tests.Discovery;

/// <summary>
/// Registration keys (<c>FuncGateway:Discovery:Registration:Keys:&lt;name&gt;</c>) end to end: real Azurite, a real
/// gateway, real Kestrel upstreams. A key registers instances of its own pools and is refused, like a wrong key,
/// everywhere else, whatever the path looks like.
/// </summary>
[Collection("Azurite")]
public sealed class RegistrationKeyTests(AzuriteFixture azurite)
{
    private const string OrdersKey = "orders-registration-key-0123456789abcdef";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private static Dictionary<string, string?> Settings() => new()
    {
        ["FuncGateway:Discovery:Registration:RefreshSeconds"] = "1",
        ["FuncGateway:Registry:RefreshIntervalSeconds"] = "5",
        ["FuncGateway:Discovery:Registration:Keys:orders_app:Key"] = OrdersKey,
        ["FuncGateway:Discovery:Registration:Keys:orders_app:Pools"] = "orders, orders-eu",

        // A test here sends more refused keys from 127.0.0.1 than the default allows per window before 429.
        ["FuncGateway:Admin:MaxFailedAttempts"] = "100",
    };

    private static async Task<GatewayHost> StartGatewayAsync(AzuriteFixture azurite, Diagnostics.TelemetryCapture? capture = null)
    {
        var gateway = await GatewayHost.StartAsync(azurite.ConnectionString, Settings(), logging: capture is null ? null : capture.AddTo);
        foreach (var pool in new[] { "orders", "billing" })
        {
            await gateway.Upstreams!.UpsertEntityAsync(new TableEntity("default", pool) { ["Discovery"] = "{\"Source\":\"registration\"}" });
            await gateway.UpsertRouteAsync(pool, $"/{pool}/{{**rest}}", pool);
        }

        await gateway.ReloadAsync();
        return gateway;
    }

    private static async Task<HttpResponseMessage> SendAsync(GatewayHost gateway, HttpMethod method, string path, string key, object? body = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
        request.Headers.Add("X-Admin-Key", key);
        return await gateway.Client.SendAsync(request);
    }

    [Fact]
    public async Task A_registration_key_registers_into_its_own_pools_and_is_refused_like_a_wrong_key_everywhere_else()
    {
        await using var a = await TestUpstream.StartAsync("a");
        var capture = new Diagnostics.TelemetryCapture();
        await using var gateway = await StartGatewayAsync(azurite, capture);

        using var registered = await SendAsync(gateway, HttpMethod.Put, "/_gateway/pools/orders/instances/a-1", OrdersKey, new { url = a.BaseAddress.ToString(), leaseSeconds = 60 });
        Assert.Equal(HttpStatusCode.OK, registered.StatusCode);
        await Waiting.UntilAsync(async () => (await gateway.Client.GetAsync("/orders/1")).IsSuccessStatusCode, Patience, "a to be served");
        Assert.Equal("a", (await Echo.ReadAsync(await gateway.Client.GetAsync("/orders/1"))).Instance);

        // Another registration pool, the same pool in another case, a pool that does not exist: the wrong-key answer,
        // so the key learns nothing about which pools exist.
        var body = new { url = a.BaseAddress.ToString() };
        await Problem.AssertAsync(await SendAsync(gateway, HttpMethod.Put, "/_gateway/pools/billing/instances/a-1", OrdersKey, body), HttpStatusCode.Unauthorized, "admin_unauthorized");
        await Problem.AssertAsync(await SendAsync(gateway, HttpMethod.Delete, "/_gateway/pools/billing/instances/a-1", OrdersKey), HttpStatusCode.Unauthorized, "admin_unauthorized");
        await Problem.AssertAsync(await SendAsync(gateway, HttpMethod.Put, "/_gateway/pools/Orders/instances/a-1", OrdersKey, body), HttpStatusCode.Unauthorized, "admin_unauthorized");
        await Problem.AssertAsync(await SendAsync(gateway, HttpMethod.Put, "/_gateway/pools/nope/instances/a-1", OrdersKey, body), HttpStatusCode.Unauthorized, "admin_unauthorized");
        await Problem.AssertAsync(await SendAsync(gateway, HttpMethod.Get, "/_gateway/pools/orders/instances/a-1", OrdersKey), HttpStatusCode.Unauthorized, "admin_unauthorized");

        // Every other admin endpoint.
        foreach (var (method, path) in new[]
        {
            (HttpMethod.Post, "/_gateway/reload"), (HttpMethod.Get, "/_gateway/routes"), (HttpMethod.Get, "/_gateway/upstreams"),
            (HttpMethod.Get, "/_gateway/health"), (HttpMethod.Get, "/_gateway/status"), (HttpMethod.Get, "/_gateway/rejected"),
            (HttpMethod.Get, "/_gateway/dashboard/data"), (HttpMethod.Post, "/_gateway/cache/purge"), (HttpMethod.Get, "/_gateway/pools"),
        })
        {
            await Problem.AssertAsync(await SendAsync(gateway, method, path, OrdersKey, method == HttpMethod.Post ? new { prefix = "/" } : null), HttpStatusCode.Unauthorized, "admin_unauthorized");
        }

        // The admin key still works everywhere, registration pools included.
        using var byAdmin = await SendAsync(gateway, HttpMethod.Put, "/_gateway/pools/billing/instances/a-1", GatewayHost.AdminKey, body);
        Assert.Equal(HttpStatusCode.OK, byAdmin.StatusCode);
        using var routes = await SendAsync(gateway, HttpMethod.Get, "/_gateway/routes", GatewayHost.AdminKey);
        Assert.Equal(HttpStatusCode.OK, routes.StatusCode);

        // The key deregisters its own instance.
        using var deleted = await SendAsync(gateway, HttpMethod.Delete, "/_gateway/pools/orders/instances/a-1", OrdersKey);
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        var instances = new TableServiceClient(azurite.ConnectionString).GetTableClient(gateway.TablePrefix + "Instances");
        Assert.False((await instances.GetEntityIfExistsAsync<TableEntity>("orders", "a-1")).HasValue);
        Assert.True((await instances.GetEntityIfExistsAsync<TableEntity>("billing", "a-1")).HasValue);

        // The audit trail says which credential did what: the key's name, never a key.
        var logged = capture.Logs.Records.Where(static r => r.EventId.Id is 8606 or 8607).Select(static r => r.Message).ToList();
        Assert.Contains(logged, static m => m.Contains("'a-1' of pool 'orders' registered", StringComparison.Ordinal) && m.EndsWith("with registration key 'orders_app'.", StringComparison.Ordinal));
        Assert.Contains(logged, static m => m.Contains("'a-1' of pool 'billing' registered", StringComparison.Ordinal) && m.EndsWith("with the admin key.", StringComparison.Ordinal));
        Assert.Contains("Discovery: instance 'a-1' of pool 'orders' deregistered, with registration key 'orders_app'.", logged);
        Assert.All(logged, static m => Assert.DoesNotContain(OrdersKey, m, StringComparison.Ordinal));
        Assert.All(logged, static m => Assert.DoesNotContain(GatewayHost.AdminKey, m, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("POST", "/_gateway/pools/orders/instances/../../reload", 401, "admin_unauthorized")]
    [InlineData("POST", "/_gateway/pools/orders/instances/../../../reload", 401, "admin_unauthorized")]
    [InlineData("GET", "/_gateway/pools/orders/instances/../../../routes", 401, "admin_unauthorized")]
    [InlineData("POST", "/_gateway/pools/orders/instances/%2E%2E/%2E%2E/%2E%2E/reload", 401, "admin_unauthorized")]
    [InlineData("PUT", "/_gateway/pools/orders%2Finstances%2Fx/instances/x", 401, "admin_unauthorized")]
    [InlineData("PUT", "/_gateway//pools/orders/instances/x", 401, "admin_unauthorized")]
    [InlineData("PUT", "/_gateway/pools/orders/instances/x/extra", 401, "admin_unauthorized")]
    [InlineData("PUT", "/_gateway/pools/billing%2Forders/instances/x", 401, "admin_unauthorized")]
    // Dot segments behind encoded slashes: the gateway refuses such a path before the admin surface sees it.
    [InlineData("POST", "/_gateway/pools/orders/instances/..%2F..%2F..%2Freload", 400, "invalid_path")]
    [InlineData("PUT", "/_gateway/pools/orders%2F..%2F..%2Freload/instances/x", 400, "invalid_path")]
    [InlineData("PUT", "/_gateway/pools/billing%2F..%2Forders/instances/x", 400, "invalid_path")]
    [InlineData("PUT", "/_gateway/pools/orders/instances/..%2F..%2F..%2Freload", 400, "invalid_path")]
    public async Task A_path_that_only_looks_like_a_registration_of_its_pool_is_refused(string method, string target, int status, string code)
    {
        await using var gateway = await StartGatewayAsync(azurite);
        var body = "{\"url\":\"http://10.0.0.7:8080\"}";
        using var cts = new CancellationTokenSource(Patience);

        var response = await RawHttpClient.ExchangeAsync(gateway.Client.BaseAddress!,
            $"{method} {target} HTTP/1.1\r\nHost: gw\r\nX-Admin-Key: {OrdersKey}\r\nContent-Type: application/json\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n{body}", cts.Token);

        response.AssertProblem(status, code);
        var instances = new TableServiceClient(azurite.ConnectionString).GetTableClient(gateway.TablePrefix + "Instances");
        await instances.CreateIfNotExistsAsync();
        Assert.Empty(instances.QueryAsync<TableEntity>().ToBlockingEnumerable());
    }

    [Fact]
    public async Task Without_an_admin_key_only_the_registration_endpoint_is_on_and_only_for_registration_keys()
    {
        await using var a = await TestUpstream.StartAsync("a");
        // The rows are there before the first read: with no admin key there is no admin reload.
        var prefix = GatewayHost.NewPrefix();
        var tables = new TableServiceClient(azurite.ConnectionString);
        await tables.GetTableClient(prefix + "Upstreams").CreateIfNotExistsAsync();
        await tables.GetTableClient(prefix + "Routes").CreateIfNotExistsAsync();
        await tables.GetTableClient(prefix + "Upstreams").UpsertEntityAsync(new TableEntity("default", "orders") { ["Discovery"] = "{\"Source\":\"registration\"}" });
        await tables.GetTableClient(prefix + "Routes").UpsertEntityAsync(new TableEntity("default", "orders") { ["Path"] = "/orders/{**rest}", ["Auth"] = "anonymous", ["Upstream"] = "orders" });
        var settings = Settings();
        settings["FuncGateway:Admin:Key"] = null;
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString, settings, prefix);
        await Waiting.UntilAsync(async () => (await gateway.Client.GetAsync("/_gateway/healthz")).IsSuccessStatusCode, Patience, "the first snapshot");

        using var registered = await SendAsync(gateway, HttpMethod.Put, "/_gateway/pools/orders/instances/a-1", OrdersKey, new { url = a.BaseAddress.ToString(), leaseSeconds = 60 });
        Assert.True(registered.StatusCode == HttpStatusCode.OK, await registered.Content.ReadAsStringAsync());
        await Waiting.UntilAsync(async () => (await gateway.Client.GetAsync("/orders/1")).IsSuccessStatusCode, Patience, "a to be served");

        // The rest of the admin surface stays off (404), for the registration key as for anyone.
        await Problem.AssertAsync(await SendAsync(gateway, HttpMethod.Get, "/_gateway/routes", OrdersKey), HttpStatusCode.NotFound, "route_not_found");
        await Problem.AssertAsync(await SendAsync(gateway, HttpMethod.Post, "/_gateway/reload", OrdersKey), HttpStatusCode.NotFound, "route_not_found");
        // The registration endpoint asks for a key.
        using var noKey = new HttpRequestMessage(HttpMethod.Put, "/_gateway/pools/orders/instances/a-1") { Content = JsonContent.Create(new { url = a.BaseAddress.ToString() }) };
        await Problem.AssertAsync(await gateway.Client.SendAsync(noKey), HttpStatusCode.Unauthorized, "admin_unauthorized");
        await Problem.AssertAsync(await SendAsync(gateway, HttpMethod.Put, "/_gateway/pools/orders/instances/a-1", GatewayHost.AdminKey, new { url = a.BaseAddress.ToString() }),
            HttpStatusCode.Unauthorized, "admin_unauthorized");
    }

    [Fact]
    public async Task The_backend_helper_registers_and_deregisters_with_a_registration_key()
    {
        await using var gateway = await StartGatewayAsync(azurite);
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        builder.Services.AddGatewayRegistration(o =>
        {
            o.GatewayUrl = gateway.Client.BaseAddress;
            o.AdminKey = OrdersKey;
            o.Pool = "orders";
            o.InstanceId = "helper-1";
            o.LeaseSeconds = 30;
        });
        await using var app = builder.Build();
        app.Run(context => FuncGateway.Samples.Echo.EchoHandler.HandleAsync(context, "helper"));
        await app.StartAsync();

        await Waiting.UntilAsync(async () => (await gateway.Client.GetAsync("/orders/1")).IsSuccessStatusCode, Patience, "the helper's instance to be served");
        Assert.Equal("helper", (await Echo.ReadAsync(await gateway.Client.GetAsync("/orders/1"))).Instance);

        await app.StopAsync();
        var instances = new TableServiceClient(azurite.ConnectionString).GetTableClient(gateway.TablePrefix + "Instances");
        Assert.False((await instances.GetEntityIfExistsAsync<TableEntity>("orders", "helper-1")).HasValue);
    }
}
