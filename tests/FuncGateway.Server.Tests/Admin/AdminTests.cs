using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using FuncGateway.Admin;
using FuncGateway.Model;
using FuncGateway.Server.Tests.Diagnostics;
using FuncGateway.Server.Tests.Infrastructure;
using FuncGateway.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace FuncGateway.Server.Tests.Admin;

[Collection("Azurite")]
public sealed class AdminTests(AzuriteFixture azurite)
{
    [Theory]
    [InlineData(null)]
    [InlineData("wrong-key")]
    [InlineData("TEST-ADMIN-KEY-0123456789")]
    [InlineData("test-admin-key-012345678")]
    public async Task Admin_endpoints_refuse_a_missing_or_wrong_key(string? key)
    {
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/_gateway/routes");
        if (key is not null)
        {
            request.Headers.Add("X-Admin-Key", key);
        }

        using var response = await gateway.Client.SendAsync(request);

        await Problem.AssertAsync(response, HttpStatusCode.Unauthorized, "admin_unauthorized");
        Assert.Contains("X-Admin-Key", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_flood_of_wrong_admin_keys_is_logged_once_and_then_refused_with_429_whatever_the_key()
    {
        var capture = new TelemetryCapture();
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString, new Dictionary<string, string?>
        {
            ["FuncGateway:Admin:MaxFailedAttempts"] = "3",
            ["FuncGateway:ForwardedHeaders:TrustedProxies"] = "127.0.0.1",
        }, logging: capture.AddTo);

        for (var i = 0; i < 3; i++)
        {
            using var guess = await AdminStatusAsync(gateway, "guess-" + i, client: "203.0.113.7");
            await Problem.AssertAsync(guess, HttpStatusCode.Unauthorized, "admin_unauthorized");
        }

        // The right key no longer helps this client: an answer that differed would tell which guess hit.
        using var throttled = await AdminStatusAsync(gateway, GatewayHost.AdminKey, client: "203.0.113.7");
        using var other = await AdminStatusAsync(gateway, GatewayHost.AdminKey, client: "198.51.100.9");

        await Problem.AssertAsync(throttled, HttpStatusCode.TooManyRequests, "admin_throttled");
        var retryAfter = throttled.Headers.RetryAfter?.Delta;
        Assert.True(retryAfter is { TotalSeconds: >= 1 and <= 60 }, $"Retry-After: {retryAfter}");
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        var logged = Assert.Single(capture.Logs.Records, static r => r.EventId.Id == 3000);
        Assert.Contains("203.0.113.7", logged.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("guess-", logged.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Refused_admin_requests_are_summed_up_when_the_window_ends_and_the_client_may_try_again()
    {
        var capture = new TelemetryCapture();
        var clock = new FakeTimeProvider(TimeProvider.System.GetUtcNow());
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString, new Dictionary<string, string?> { ["FuncGateway:Admin:MaxFailedAttempts"] = "2" },
            logging: capture.AddTo,
            services: s => s.AddSingleton(sp => new AdminKeyFailures(sp.GetRequiredService<IOptions<GatewayOptions>>(), clock, sp.GetRequiredService<ILogger<AdminKeyFailures>>())));

        using (var missing = await AdminStatusAsync(gateway, key: null))
        {
            await Problem.AssertAsync(missing, HttpStatusCode.Unauthorized, "admin_unauthorized");
        }

        for (var i = 0; i < 3; i++)
        {
            using var guess = await AdminStatusAsync(gateway, "guess-" + i);
            Assert.Equal(i < 2 ? HttpStatusCode.Unauthorized : HttpStatusCode.TooManyRequests, guess.StatusCode);
            if (i == 2)
            {
                Assert.Equal(TimeSpan.FromSeconds(60), guess.Headers.RetryAfter?.Delta);
            }
        }

        clock.Advance(TimeSpan.FromSeconds(60));
        using var after = await AdminStatusAsync(gateway, GatewayHost.AdminKey);

        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        Assert.Single(capture.Logs.Records, static r => r.EventId.Id == 3000);
        var summary = Assert.Single(capture.Logs.Records, static r => r.EventId.Id == 3005);
        Assert.Contains("3 from 1 client addresses, 2 of them not logged one by one", summary.Message, StringComparison.Ordinal);
        Assert.Contains("1 answered 429", summary.Message, StringComparison.Ordinal);
    }

    private static async Task<HttpResponseMessage> AdminStatusAsync(GatewayHost gateway, string? key, string? client = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/_gateway/status");
        if (key is not null)
        {
            request.Headers.Add("X-Admin-Key", key);
        }

        if (client is not null)
        {
            request.Headers.Add("X-Forwarded-For", client);
        }

        return await gateway.Client.SendAsync(request);
    }

    [Fact]
    public async Task Without_a_configured_key_the_admin_surface_does_not_exist()
    {
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString, new Dictionary<string, string?> { ["FuncGateway:Admin:Key"] = "" });
        using var request = new HttpRequestMessage(HttpMethod.Get, "/_gateway/routes");
        request.Headers.Add("X-Admin-Key", "");

        using var response = await gateway.Client.SendAsync(request);

        await Problem.AssertAsync(response, HttpStatusCode.NotFound, "route_not_found");
    }

    [Fact]
    public async Task A_blank_admin_key_turns_the_admin_surface_off()
    {
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString, new Dictionary<string, string?> { ["FuncGateway:Admin:Key"] = " \t " });

        using var routes = await gateway.Client.GetAsync("/_gateway/routes");
        using var dashboard = await gateway.Client.GetAsync("/_gateway/dashboard");

        await Problem.AssertAsync(routes, HttpStatusCode.NotFound, "route_not_found");
        await Problem.AssertAsync(dashboard, HttpStatusCode.NotFound, "route_not_found");
    }

    [Fact]
    public async Task An_admin_key_stored_with_surrounding_whitespace_is_the_key_without_it()
    {
        // A secret written from a file keeps its trailing newline; a header value cannot carry it.
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString, new Dictionary<string, string?> { ["FuncGateway:Admin:Key"] = " padded-admin-key-0123456789\n" });
        using var request = new HttpRequestMessage(HttpMethod.Get, "/_gateway/status");
        request.Headers.Add("X-Admin-Key", "padded-admin-key-0123456789");

        using var response = await gateway.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task A_short_admin_key_works_but_is_warned_about_without_showing_it()
    {
        var capture = new TelemetryCapture();
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString, new Dictionary<string, string?> { ["FuncGateway:Admin:Key"] = "pw123" },
            logging: capture.AddTo);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/_gateway/status");
        request.Headers.Add("X-Admin-Key", "pw123");

        using var response = await gateway.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var warning = Assert.Single(capture.Logs.Records, r => r.EventId.Id == 3004);
        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Warning, warning.Level);
        Assert.Contains("only 5 characters", warning.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("pw123", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unresolved_key_vault_reference_never_works_as_the_admin_key()
    {
        const string reference = "@Microsoft.KeyVault(SecretUri=https://fgw-kv.vault.azure.net/secrets/admin-key/)";
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString, new Dictionary<string, string?> { ["FuncGateway:Admin:Key"] = reference });
        using var request = new HttpRequestMessage(HttpMethod.Get, "/_gateway/routes");
        request.Headers.Add("X-Admin-Key", reference);

        using var response = await gateway.Client.SendAsync(request);

        await Problem.AssertAsync(response, HttpStatusCode.NotFound, "route_not_found");
    }

    [Fact]
    public async Task Routes_listing_shows_effective_routes_with_their_instances()
    {
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString);
        await gateway.UpsertUpstreamAsync("pool", new Uri("http://10.1.1.1:8080/"), new Uri("http://10.1.1.2:8080"));
        await gateway.UpsertRouteAsync("orders", "/orders/{id}", "pool", ("Methods", "GET"), ("Priority", 3));
        await gateway.ReloadAsync();

        var json = await gateway.AdminGetAsync("routes");

        var route = Assert.Single(json.GetProperty("routes").EnumerateArray());
        Assert.Equal("orders", route.GetProperty("id").GetString());
        Assert.Equal("/orders/{id}", route.GetProperty("path").GetString());
        Assert.Equal(3, route.GetProperty("priority").GetInt32());
        Assert.Equal(100, route.GetProperty("timeoutSeconds").GetDouble());
        Assert.Equal(["http://10.1.1.1:8080", "http://10.1.1.2:8080"], route.GetProperty("instances").EnumerateArray().Select(i => i.GetString()));
    }

    [Fact]
    public async Task Upstreams_listing_shows_each_instance_as_url_weight_and_priority()
    {
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString);
        await gateway.UpsertUpstreamAsync("pool", new Uri("http://10.1.1.1:8080/"), new Uri("http://10.1.1.2:8080"));
        await gateway.ReloadAsync();

        var json = await gateway.AdminGetAsync("upstreams");

        var pool = Assert.Single(json.GetProperty("upstreams").EnumerateArray());
        Assert.Equal("pool", pool.GetProperty("name").GetString());
        Assert.Equal(JsonValueKind.Null, pool.GetProperty("discovery").ValueKind);
        Assert.Equal(
            ["url=http://10.1.1.1:8080 weight=1 priority=0", "url=http://10.1.1.2:8080 weight=1 priority=0"],
            pool.GetProperty("instances").EnumerateArray().Select(static i => string.Join(' ', i.EnumerateObject().Select(static p => $"{p.Name}={p.Value}"))));
    }

    [Fact]
    public async Task Reload_is_post_only_and_returns_the_new_status()
    {
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString);

        using var get = new HttpRequestMessage(HttpMethod.Get, "/_gateway/reload");
        get.Headers.Add("X-Admin-Key", GatewayHost.AdminKey);
        using var getResponse = await gateway.Client.SendAsync(get);
        await Problem.AssertAsync(getResponse, HttpStatusCode.MethodNotAllowed, "method_not_allowed");

        using var post = new HttpRequestMessage(HttpMethod.Post, "/_gateway/reload");
        post.Headers.Add("X-Admin-Key", GatewayHost.AdminKey);
        using var postResponse = await gateway.Client.SendAsync(post);
        var status = await postResponse.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(HttpStatusCode.OK, postResponse.StatusCode);
        Assert.True(status.GetProperty("snapshotVersion").GetInt64() >= 1);
        Assert.Equal(JsonValueKind.Null, status.GetProperty("lastError").ValueKind);
    }

    [Fact]
    public async Task Status_reports_the_processs_memory_and_runtime()
    {
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString);
        await gateway.ReloadAsync();

        using var request = new HttpRequestMessage(HttpMethod.Get, "/_gateway/status");
        request.Headers.Add("X-Admin-Key", GatewayHost.AdminKey);
        using var response = await gateway.Client.SendAsync(request);
        var process = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("process");

        // The test host runs in this process: its figures are this process's.
        Assert.InRange(process.GetProperty("workingSetBytes").GetInt64(), 1L << 20, Environment.WorkingSet * 4);
        var gc = process.GetProperty("gc");
        Assert.Equal(System.Runtime.GCSettings.IsServerGC ? "server" : "workstation", gc.GetProperty("mode").GetString());
        Assert.True(gc.GetProperty("heapSizeBytes").GetInt64() > 0);
        Assert.True(gc.GetProperty("committedBytes").GetInt64() >= gc.GetProperty("heapSizeBytes").GetInt64() - gc.GetProperty("fragmentedBytes").GetInt64());
        Assert.True(gc.GetProperty("allocatedBytes").GetInt64() > 0);
        Assert.Equal(3, gc.GetProperty("collections").GetArrayLength());
        Assert.True(process.GetProperty("jit").GetProperty("methods").GetInt32() > 0);
        Assert.True(process.GetProperty("threads").GetProperty("process").GetInt32() >= process.GetProperty("threads").GetProperty("threadPool").GetInt32());
        var startedAt = process.GetProperty("startedAt").GetDateTimeOffset();
        Assert.InRange(startedAt, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow);
    }

    [Fact]
    public async Task Healthz_is_anonymous_and_reports_readiness()
    {
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString);
        await gateway.ReloadAsync();

        using var response = await gateway.Client.GetAsync("/_gateway/healthz");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("ready", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Table_routes_cannot_shadow_the_admin_surface()
    {
        await using var echo = await TestUpstream.StartAsync("echo");
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString);
        await gateway.UpsertRouteAsync("hijack", "/_gateway/{**rest}", echo.BaseAddress.ToString());
        await gateway.ReloadAsync();

        using var response = await gateway.Client.GetAsync("/_gateway/routes");

        await Problem.AssertAsync(response, HttpStatusCode.Unauthorized, "admin_unauthorized");
        Assert.Equal(0, echo.RequestCount);
        var rejected = await gateway.AdminGetAsync("rejected");
        Assert.Equal("hijack", Assert.Single(rejected.GetProperty("rejected").EnumerateArray()).GetProperty("rowKey").GetString());
    }

    [Fact]
    public async Task A_path_that_reads_as_the_admin_prefix_on_a_lenient_server_is_not_forwarded()
    {
        await using var echo = await TestUpstream.StartAsync("echo");
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString);
        await gateway.UpsertRouteAsync("all", "/{**rest}", echo.BaseAddress.ToString());
        await gateway.ReloadAsync();

        // The catch-all takes each of them literally; a server that merges "//", decodes %2F, drops ";" parameters or a
        // segment's trailing dot or space reads each as /_gateway/routes.
        foreach (var path in new[] { "//_gateway/routes", "/_gateway%2Froutes", "/_GATEWAY;x=1/routes", "/_gateway./routes", "/_gateway%20/routes", "/%5Fgateway%5Croutes" })
        {
            using var response = await gateway.Client.GetAsync(new Uri(gateway.Client.BaseAddress!.GetLeftPart(UriPartial.Authority) + path));

            await Problem.AssertAsync(response, HttpStatusCode.BadRequest, "invalid_path");
        }

        Assert.Equal(0, echo.RequestCount);
        using var other = await gateway.Client.GetAsync("/api/_gateway;x/routes");
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
    }
}
