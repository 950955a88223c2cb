using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using FuncGateway.Configuration;
using FuncGateway.Model;
using FuncGateway.Server.Tests.Diagnostics;
using FuncGateway.Server.Tests.Infrastructure;
using FuncGateway.Storage;
using FuncGateway.Testing;

namespace FuncGateway.Server.Tests.Configuration;

[Collection("Azurite")]
public sealed class RegistryTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task A_route_changed_in_the_table_takes_effect_within_the_refresh_interval_without_restart()
    {
        await using var blue = await TestUpstream.StartAsync("blue");
        await using var green = await TestUpstream.StartAsync("green");
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString); // refresh every 0.5 s
        await gateway.UpsertRouteAsync("app", "/app", blue.BaseAddress.ToString());
        Assert.Equal("blue", (await Echo.ReadAsync(await WaitForStatusAsync(gateway, "/app", HttpStatusCode.OK))).Instance);

        await gateway.UpsertRouteAsync("app", "/app", green.BaseAddress.ToString());
        var changedAt = Stopwatch.StartNew();
        string instance;
        do
        {
            await Task.Delay(50);
            instance = (await Echo.ReadAsync(await gateway.Client.GetAsync("/app"))).Instance;
        }
        while (instance != "green" && changedAt.Elapsed < TimeSpan.FromSeconds(10));

        Assert.Equal("green", instance);

        // Documented bound: one refresh interval plus one registry read. Generous slack for a loaded CI machine.
        Assert.True(changedAt.Elapsed < TimeSpan.FromSeconds(5), $"took {changedAt.Elapsed}");
    }

    [Fact]
    public async Task A_bad_row_is_quarantined_and_reported_while_the_other_routes_keep_working()
    {
        await using var echo = await TestUpstream.StartAsync("echo");
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString);
        await gateway.UpsertRouteAsync("good", "/good", echo.BaseAddress.ToString());
        await gateway.UpsertRouteAsync("bad-template", "/bad/{unclosed", echo.BaseAddress.ToString());
        await gateway.UpsertRouteAsync("bad-upstream", "/bad-upstream", "file:///etc/passwd");
        await gateway.UpsertRouteAsync("bad-json", "/bad-json", echo.BaseAddress.ToString(), ("Headers", "[{\"name\":"));
        await gateway.ReloadAsync();

        Assert.Equal(HttpStatusCode.OK, (await gateway.Client.GetAsync("/good")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await gateway.Client.GetAsync("/bad-upstream")).StatusCode);

        var rejected = await gateway.RejectedReasonsAsync();
        Assert.Equal(["bad-json", "bad-template", "bad-upstream"], rejected.Keys.Order(StringComparer.Ordinal));
        Assert.Contains("/bad/{unclosed", rejected["bad-template"], StringComparison.Ordinal);
        Assert.Contains("only http and https", rejected["bad-upstream"], StringComparison.Ordinal);
        Assert.Contains("Headers is not a valid JSON array", rejected["bad-json"], StringComparison.Ordinal);

        var routes = (await gateway.AdminGetAsync("routes")).GetProperty("routes").EnumerateArray().Select(r => r.GetProperty("id").GetString());
        Assert.Equal(["good"], routes);
    }

    [Fact]
    public async Task A_row_rejected_for_a_wrong_type_lists_what_is_wrong_with_its_path_too()
    {
        await using var echo = await TestUpstream.StartAsync("echo");
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString);
        await gateway.UpsertRouteAsync("good", "/good", echo.BaseAddress.ToString());
        await gateway.UpsertRouteAsync("two-faults", "/bad/{unclosed", echo.BaseAddress.ToString(), ("Priority", "high"));
        await gateway.UpsertRouteAsync("admin-path", "/_gateway/mine", echo.BaseAddress.ToString(), ("TimeoutSeconds", true));
        await gateway.ReloadAsync();

        var rejected = (await gateway.AdminGetAsync("rejected")).GetProperty("rejected").EnumerateArray()
            .ToDictionary(r => r.GetProperty("rowKey").GetString()!, r => r.GetProperty("errors").EnumerateArray().Select(e => e.GetString()!).ToList());

        Assert.Equal(2, rejected["two-faults"].Count);
        Assert.StartsWith("Priority must be a 32-bit integer", rejected["two-faults"][0], StringComparison.Ordinal);
        Assert.Contains("/bad/{unclosed", rejected["two-faults"][1], StringComparison.Ordinal);
        Assert.Equal(2, rejected["admin-path"].Count);
        Assert.StartsWith("TimeoutSeconds must be a number", rejected["admin-path"][0], StringComparison.Ordinal);
        Assert.Contains("reserved for the gateway's admin surface", rejected["admin-path"][1], StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await gateway.Client.GetAsync("/good")).StatusCode);
    }

    [Theory]
    [InlineData("Methods", "GET,", "empty method name")]
    [InlineData("Methods", ",", "empty method name")]
    [InlineData("Methods", "GET, ,POST", "empty method name")]
    [InlineData("Methods", "[\"GET\",\"\"]", "empty")]
    [InlineData("Hosts", ",", "empty host name")]
    [InlineData("Hosts", "api.example.com,", "empty host name")]
    [InlineData("Hosts", "api.example.com, ,other.example.com", "empty host name")]
    public async Task A_row_whose_Methods_or_Hosts_hold_an_empty_name_is_rejected_not_widened(string property, string list, string reason)
    {
        // 'GET,' was read as GET, and ',' as no list at all: a route of every method or any host, which nobody wrote.
        await using var echo = await TestUpstream.StartAsync("echo");
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString);
        await gateway.UpsertRouteAsync("good", "/good", echo.BaseAddress.ToString(), ("Methods", "GET"));
        await gateway.UpsertRouteAsync("empty-item", "/empty", echo.BaseAddress.ToString(), (property, list));
        await gateway.ReloadAsync();

        var rejected = await gateway.RejectedReasonsAsync();
        Assert.Equal(["empty-item"], rejected.Keys);
        Assert.Contains(reason, rejected["empty-item"], StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await gateway.Client.DeleteAsync("/empty")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await gateway.Client.GetAsync("/good")).StatusCode);
    }

    [Fact]
    public async Task Of_two_routes_that_match_exactly_the_same_requests_the_later_id_is_rejected_naming_the_winner_and_logged_once()
    {
        await using var winner = await TestUpstream.StartAsync("winner");
        await using var loser = await TestUpstream.StartAsync("loser");
        var capture = new TelemetryCapture();
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString, logging: capture.AddTo);

        // The same matches written differently: literal case, parameter names, a trailing slash, '*' or '**'.
        await gateway.UpsertRouteAsync("orders-a", "/api/orders/{id}", winner.BaseAddress.ToString(), ("Methods", "GET,POST"));
        await gateway.UpsertRouteAsync("orders-b", "/API/Orders/{orderId}/", loser.BaseAddress.ToString(), ("Methods", "post"));
        await gateway.UpsertRouteAsync("files-a", "/files/{*rest}", winner.BaseAddress.ToString());
        await gateway.UpsertRouteAsync("files-b", "/files/{**path}", loser.BaseAddress.ToString());
        await gateway.UpsertRouteAsync("items-a", "/items/{id:int:min(1)}", winner.BaseAddress.ToString());
        await gateway.UpsertRouteAsync("items-b", "/items/{n:MIN(1):Int}", loser.BaseAddress.ToString());
        await gateway.UpsertRouteAsync("host-a", "/host", winner.BaseAddress.ToString(), ("Hosts", "127.0.0.1"));
        await gateway.UpsertRouteAsync("host-b", "/host", loser.BaseAddress.ToString(), ("Hosts", "127.0.0.1,127.0.0.1"));
        await gateway.UpsertRouteAsync("any-a", "/any", winner.BaseAddress.ToString());
        await gateway.UpsertRouteAsync("any-b", "/any", loser.BaseAddress.ToString(), ("Hosts", "example.com,*"));
        await gateway.UpsertRouteAsync("beta-a", "/beta", winner.BaseAddress.ToString(), ("Headers", """[{"name":"X-Beta","mode":"Exists"}]"""));
        await gateway.UpsertRouteAsync("beta-b", "/beta", loser.BaseAddress.ToString(), ("Headers", """[{"name":"x-beta","mode":"Exists","caseSensitive":true}]"""));

        // Overlapping but not identical: each keeps serving what it matches more precisely.
        await gateway.UpsertRouteAsync("orders-int", "/api/orders/{id:int}", loser.BaseAddress.ToString(), ("Methods", "GET,DELETE"));
        await gateway.UpsertRouteAsync("orders-put", "/api/orders/{id}", loser.BaseAddress.ToString(), ("Methods", "PUT"));
        await gateway.UpsertRouteAsync("files-readme", "/files/readme", loser.BaseAddress.ToString());
        await gateway.ReloadAsync();
        await gateway.ReloadAsync();

        var rejected = await gateway.RejectedReasonsAsync();
        Assert.Equal(["any-b", "beta-b", "files-b", "host-b", "items-b", "orders-b"], rejected.Keys.Order(StringComparer.Ordinal));
        Assert.StartsWith("Conflicts with route 'any-a'", rejected["any-b"], StringComparison.Ordinal);
        Assert.StartsWith("Conflicts with route 'beta-a'", rejected["beta-b"], StringComparison.Ordinal);
        Assert.StartsWith("Conflicts with route 'orders-a'", rejected["orders-b"], StringComparison.Ordinal);
        Assert.StartsWith("Conflicts with route 'files-a'", rejected["files-b"], StringComparison.Ordinal);
        Assert.StartsWith("Conflicts with route 'items-a'", rejected["items-b"], StringComparison.Ordinal);
        Assert.StartsWith("Conflicts with route 'host-a'", rejected["host-b"], StringComparison.Ordinal);

        Assert.Equal("winner", (await Echo.ReadAsync(await gateway.Client.PostAsync("/api/orders/7", null))).Instance);
        Assert.Equal("winner", (await Echo.ReadAsync(await gateway.Client.GetAsync("/files/a/b"))).Instance);
        Assert.Equal("winner", (await Echo.ReadAsync(await gateway.Client.GetAsync("/items/3"))).Instance);
        Assert.Equal("winner", (await Echo.ReadAsync(await gateway.Client.GetAsync("/host"))).Instance);
        Assert.Equal("winner", (await Echo.ReadAsync(await gateway.Client.GetAsync("/any"))).Instance);
        Assert.Equal("loser", (await Echo.ReadAsync(await gateway.Client.GetAsync("/files/readme"))).Instance);
        Assert.Equal("loser", (await Echo.ReadAsync(await gateway.Client.PutAsync("/api/orders/7", null))).Instance);
        Assert.Equal("loser", (await Echo.ReadAsync(await gateway.Client.DeleteAsync("/api/orders/7"))).Instance);

        // Logged when the snapshot changed, not again on a reload that found the same rows.
        var logged = capture.Logs.Records.Where(r => r.EventId.Id == 1001).Select(r => r.Message).ToList();
        Assert.Single(logged, m => m.Contains("row 'orders-b'", StringComparison.Ordinal) && m.Contains("Conflicts with route 'orders-a'", StringComparison.Ordinal));
        Assert.Single(logged, m => m.Contains("row 'files-b'", StringComparison.Ordinal));
    }

    [Fact]
    public async Task When_storage_goes_down_the_last_good_snapshot_keeps_serving()
    {
        await using var storage = await AzuriteInstance.StartAsync(CancellationToken.None);
        await using var echo = await TestUpstream.StartAsync("echo");
        await using var gateway = await GatewayHost.StartAsync(storage.ConnectionString);
        await gateway.UpsertRouteAsync("app", "/app", echo.BaseAddress.ToString());
        await WaitForStatusAsync(gateway, "/app", HttpStatusCode.OK);

        await storage.StopAsync();
        string? lastError = null;
        await WaitUntilAsync(async () =>
        {
            var status = await gateway.AdminGetAsync("status");
            lastError = status.GetProperty("lastError").GetString();
            return lastError is not null;
        });

        Assert.StartsWith("Could not", lastError, StringComparison.Ordinal);
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal("echo", (await Echo.ReadAsync(await gateway.Client.GetAsync("/app"))).Instance);
        }
    }

    [Fact]
    public async Task A_row_with_a_null_transform_is_quarantined_and_a_cold_gateway_still_serves_the_other_routes()
    {
        // The row is written before the gateway's first read: before the fix it failed that build, so the gateway
        // had no snapshot and answered every request 503 no_configuration.
        await using var echo = await TestUpstream.StartAsync("echo");
        var prefix = GatewayHost.NewPrefix();
        var routes = azurite.CreateTableServiceClient().GetTableClient(prefix + "Routes");
        await routes.CreateIfNotExistsAsync();
        await routes.UpsertEntityAsync(new Azure.Data.Tables.TableEntity("default", "good") { ["Path"] = "/good", ["Upstream"] = echo.BaseAddress.ToString(), ["Auth"] = "anonymous" });
        await routes.UpsertEntityAsync(new Azure.Data.Tables.TableEntity("default", "bad") { ["Path"] = "/bad", ["Upstream"] = echo.BaseAddress.ToString(), ["Auth"] = "anonymous", ["Transforms"] = "[null]" });
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString, prefix: prefix);

        using var good = await gateway.Client.GetAsync("/good");
        Assert.Equal("echo", (await Echo.ReadAsync(good)).Instance);
        using var bad = await gateway.Client.GetAsync("/bad");
        await Problem.AssertAsync(bad, HttpStatusCode.NotFound, "route_not_found");
        Assert.Contains("Transforms[0]: is null", (await gateway.RejectedReasonsAsync())["bad"], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Routes")]
    [InlineData("Upstreams")]
    [InlineData("Schemas")]
    public async Task A_registry_table_deleted_while_the_gateway_runs_is_an_outage_and_the_last_good_snapshot_keeps_serving(string table)
    {
        await using var echo = await TestUpstream.StartAsync("echo");
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString);
        await gateway.UpsertSchemaAsync("order", """{"type":"object","required":["id"]}""");
        await gateway.UpsertUpstreamAsync("pool", echo.BaseAddress);
        await gateway.UpsertRouteAsync("orders", "/orders", "pool", ("Validation", """{"schema":"order"}"""));
        await gateway.ReloadAsync();
        using (var accepted = await gateway.Client.PostAsync("/orders", JsonContent.Create(new { id = 1 })))
        {
            Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        }

        var client = table switch { "Routes" => gateway.Routes!, "Upstreams" => gateway.Upstreams!, _ => gateway.Schemas! };
        await client.DeleteAsync();
        using (var reload = new HttpRequestMessage(HttpMethod.Post, "/_gateway/reload"))
        {
            reload.Headers.Add("X-Admin-Key", GatewayHost.AdminKey);
            using var reloaded = await gateway.Client.SendAsync(reload);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, reloaded.StatusCode);
        }

        var status = await gateway.AdminGetAsync("status");
        Assert.Contains(client.Name, status.GetProperty("lastError").GetString(), StringComparison.Ordinal);
        Assert.Empty(await gateway.RejectedReasonsAsync());
        using (var accepted = await gateway.Client.PostAsync("/orders", JsonContent.Create(new { id = 1 })))
        {
            Assert.Equal("echo", (await Echo.ReadAsync(accepted)).Instance);
        }

        // The schema still applies: the route was not rebuilt without it.
        using var refused = await gateway.Client.PostAsync("/orders", JsonContent.Create(new { name = "x" }));
        await Problem.AssertAsync(refused, HttpStatusCode.BadRequest, "validation_failed");
    }

    [Fact]
    public async Task Starting_with_no_reachable_storage_answers_503_never_allow_all()
    {
        await using var gateway = await StartWithUnreachableStorageAsync(startupWaitSeconds: "0.5");

        using var response = await gateway.Client.GetAsync("/anything");
        await Problem.AssertAsync(response, HttpStatusCode.ServiceUnavailable, "no_configuration");

        // When to come back: the next registry read (RefreshIntervalSeconds 0.5, in whole seconds), as every other 503.
        Assert.Equal("1", Assert.Single(response.Headers.GetValues("Retry-After")));

        // The readiness probe's 503 says the same: errors.md documents Retry-After on every no_configuration.
        using var healthz = await gateway.Client.GetAsync("/_gateway/healthz");
        await Problem.AssertAsync(healthz, HttpStatusCode.ServiceUnavailable, "no_configuration");
        Assert.Equal("1", Assert.Single(healthz.Headers.GetValues("Retry-After")));
    }

    [Fact]
    public async Task A_registration_sent_before_the_first_snapshot_is_told_to_come_back_not_that_its_pool_is_unknown()
    {
        await using var gateway = await StartWithUnreachableStorageAsync(startupWaitSeconds: "0.5");

        using var register = new HttpRequestMessage(HttpMethod.Put, "/_gateway/pools/orders/instances/a-1")
        {
            Content = JsonContent.Create(new { url = "http://10.0.0.7:8080" }),
        };
        register.Headers.Add("X-Admin-Key", GatewayHost.AdminKey);
        using var response = await gateway.Client.SendAsync(register);

        await Problem.AssertAsync(response, HttpStatusCode.ServiceUnavailable, "no_configuration");
        Assert.Equal("1", Assert.Single(response.Headers.GetValues("Retry-After")));
    }

    [Fact]
    public async Task A_cold_gateway_with_unreachable_storage_is_not_ready_at_once_while_requests_wait_StartupWaitSeconds()
    {
        await using var gateway = await StartWithUnreachableStorageAsync(startupWaitSeconds: "3");

        // A request arriving before the first snapshot waits for it, up to StartupWaitSeconds.
        var waiting = Stopwatch.StartNew();
        var request = gateway.Client.GetAsync("/anything");
        await Task.Delay(200);

        // Meanwhile the readiness probe answers at once: a load balancer must not route to a gateway that cannot serve.
        var probe = Stopwatch.StartNew();
        using (var healthz = await gateway.Client.GetAsync("/_gateway/healthz"))
        {
            probe.Stop();
            var problem = await Problem.AssertAsync(healthz, HttpStatusCode.ServiceUnavailable, "no_configuration");
            Assert.StartsWith("Not ready", problem.GetProperty("title").GetString(), StringComparison.Ordinal);
        }

        // Waiting for the snapshot would take the rest of StartupWaitSeconds (2.8 s); the bound leaves a busy machine room.
        Assert.True(probe.Elapsed < TimeSpan.FromSeconds(2), $"readiness took {probe.Elapsed}");
        Assert.False(request.IsCompleted, "the request should still be waiting for a snapshot");

        using var response = await request;
        waiting.Stop();
        await Problem.AssertAsync(response, HttpStatusCode.ServiceUnavailable, "no_configuration");
        Assert.True(waiting.Elapsed >= TimeSpan.FromSeconds(2.8), $"answered after {waiting.Elapsed}, before StartupWaitSeconds");
        Assert.True(waiting.Elapsed < TimeSpan.FromSeconds(10), $"answered after {waiting.Elapsed}");
    }

    [Fact]
    public async Task Starting_with_no_storage_setting_at_all_answers_503()
    {
        await using var gateway = await GatewayHost.StartAsync(connectionString: null, new Dictionary<string, string?>
        {
            ["FuncGateway:Registry:StartupWaitSeconds"] = "0",
        });

        using var response = await gateway.Client.GetAsync("/anything");

        await Problem.AssertAsync(response, HttpStatusCode.ServiceUnavailable, "no_configuration");
        string? lastError = null;
        await WaitUntilAsync(async () =>
        {
            lastError = (await gateway.AdminGetAsync("status")).GetProperty("lastError").GetString();
            return lastError is not null;
        });
        Assert.Contains("No storage configured", lastError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_keys_only_fingerprint_equals_the_full_reads_and_tells_every_write_addition_and_removal()
    {
        var store = new TableRegistryStore(azurite.CreateTableServiceClient(), new StorageOptions { TablePrefix = GatewayHost.NewPrefix() });
        await store.EnsureTablesAsync();
        static RegistryRow Route(string id, string path) =>
            new(RegistryTable.Routes, "default", id, new Dictionary<string, object?> { ["Path"] = path, ["Upstream"] = "http://10.0.0.1", ["Auth"] = "anonymous" });
        // More routes than one page of a keys-only read holds (400), so that it follows continuation tokens.
        await store.ApplyAsync([
            new(RegistryWriteKind.Insert, Route("a", "/a")),
            new(RegistryWriteKind.Insert, Route("b", "/b")),
            .. Enumerable.Range(0, 450).Select(i => new RegistryWrite(RegistryWriteKind.Insert, Route($"r{i}", $"/r{i}"))),
            new(RegistryWriteKind.Insert, new RegistryRow(RegistryTable.Upstreams, "default", "pool", new Dictionary<string, object?> { ["Instances"] = "[]" })),
        ]);

        var full = await store.ReadAllAsync();
        Assert.Equal(452, full.Routes.Count);
        Assert.All(full.Upstreams.Concat(full.Routes), r => Assert.False(string.IsNullOrEmpty(r.ETag)));
        var unchanged = SnapshotBuilder.Fingerprint(full);
        Assert.Equal(unchanged, await store.ReadFingerprintAsync());
        Assert.Equal(unchanged, await store.ReadFingerprintAsync()); // nothing written: the same again

        // A property rewritten (keys the same), a row removed, a row added to the third table: each changes the
        // keys-only fingerprint, to what a full read then gives.
        var seen = new HashSet<string> { unchanged };
        async Task AssertChangedAsync()
        {
            var fingerprint = await store.ReadFingerprintAsync();
            Assert.NotNull(fingerprint);
            Assert.True(seen.Add(fingerprint), "the keys-only read did not see the change");
            Assert.Equal(SnapshotBuilder.Fingerprint(await store.ReadAllAsync()), fingerprint);
        }

        await store.ApplyAsync([new(RegistryWriteKind.Replace, Route("a", "/a2"), full.Routes.Single(r => r.RowKey == "a").ETag)]);
        await AssertChangedAsync();
        await store.ApplyAsync([new(RegistryWriteKind.Delete, Route("b", "/b"))], force: true);
        await AssertChangedAsync();
        await store.ApplyAsync([new(RegistryWriteKind.Insert, new RegistryRow(RegistryTable.Schemas, "default", "s", new Dictionary<string, object?> { ["Schema"] = "{}" }))]);
        await AssertChangedAsync();
    }

    /// <summary>A gateway whose storage endpoint is a closed loopback port: a cold start with storage down.</summary>
    private static Task<GatewayHost> StartWithUnreachableStorageAsync(string startupWaitSeconds) =>
        GatewayHost.StartAsync(connectionString: null, new Dictionary<string, string?>
        {
            ["FuncGateway:Storage:ConnectionString"] = $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;TableEndpoint=http://127.0.0.1:{LoopbackPorts.GetRefusing()}/devstoreaccount1;",
            ["FuncGateway:Registry:StartupWaitSeconds"] = startupWaitSeconds,
        });

    private static async Task<HttpResponseMessage> WaitForStatusAsync(GatewayHost gateway, string path, HttpStatusCode status)
    {
        HttpResponseMessage? last = null;
        await WaitUntilAsync(async () =>
        {
            last?.Dispose();
            last = await gateway.Client.GetAsync(path);
            return last.StatusCode == status;
        });
        return last!;
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(20), "condition not reached within 20 s");
            await Task.Delay(100);
        }
    }
}
