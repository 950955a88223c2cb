using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using Azure.Data.Tables;
using FuncGateway.Server.Tests.Infrastructure;
using FuncGateway.Testing;

namespace FuncGateway.Server.Tests.RateLimiting;

/// <summary>Rate limits through the real server and Azurite, seen as a client sees them.</summary>
[Collection(AzuriteCollection.Name)]
public sealed partial class RateLimitingTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private static readonly Dictionary<string, string?> Policies = new()
    {
        ["FuncGateway:RateLimits:Policies:per_ip:Limit"] = "3",
        ["FuncGateway:RateLimits:Policies:per_ip:WindowSeconds"] = "3600",
        ["FuncGateway:RateLimits:Policies:per_ip:Mode"] = "Strict",
        ["FuncGateway:RateLimits:Policies:short:Limit"] = "2",
        ["FuncGateway:RateLimits:Policies:short:WindowSeconds"] = "3",
        ["FuncGateway:RateLimits:Policies:pair_a:Limit"] = "2",
        ["FuncGateway:RateLimits:Policies:pair_a:WindowSeconds"] = "3600",
        ["FuncGateway:RateLimits:Policies:pair_b:Limit"] = "5",
        ["FuncGateway:RateLimits:Policies:pair_b:WindowSeconds"] = "3600",
        ["FuncGateway:RateLimits:Policies:pair_b:PartitionBy"] = "Global",
    };

    private TestUpstream _echo = null!;

    public async Task InitializeAsync() => _echo = await TestUpstream.StartAsync("echo");

    public async Task DisposeAsync() => await _echo.DisposeAsync();

    private async Task<GatewayHost> StartGatewayAsync(string? connectionString = null, params (string Key, string? Value)[] more)
    {
        var settings = new Dictionary<string, string?>(Policies);
        foreach (var (key, value) in more)
        {
            settings[key] = value;
        }

        return await GatewayHost.StartAsync(connectionString ?? azurite.ConnectionString, settings);
    }

    [Fact]
    public async Task Over_the_limit_the_gateway_answers_429_problem_with_retry_after_and_never_calls_the_upstream()
    {
        await RateLimitTestSupport.AwayFromWindowBoundaryAsync(3600);
        await using var gateway = await StartGatewayAsync();
        await gateway.UpsertRouteAsync("limited", "/limited", _echo.BaseAddress.ToString(), ("RateLimit", "per_ip"));
        await gateway.ReloadAsync();

        for (var left = 2; left >= 0; left--)
        {
            using var ok = await gateway.Client.GetAsync("/limited");
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            Assert.Equal("\"per_ip\";q=3;w=3600", Assert.Single(ok.Headers.GetValues("RateLimit-Policy")));
            var item = RateLimitItem().Match(Assert.Single(ok.Headers.GetValues("RateLimit")));
            Assert.True(item.Success, ok.Headers.GetValues("RateLimit").Single());
            Assert.Equal(left, int.Parse(item.Groups["r"].Value, CultureInfo.InvariantCulture));
            Assert.InRange(int.Parse(item.Groups["t"].Value, CultureInfo.InvariantCulture), 1, 3600);
        }

        using var refused = await gateway.Client.GetAsync("/limited");
        var problem = await Problem.AssertAsync(refused, HttpStatusCode.TooManyRequests, "rate_limited");
        Assert.Contains("per_ip", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        var retryAfter = int.Parse(Assert.Single(refused.Headers.GetValues("Retry-After")), CultureInfo.InvariantCulture);
        Assert.InRange(retryAfter, 1, 3600);
        Assert.Equal("\"per_ip\";q=3;w=3600", Assert.Single(refused.Headers.GetValues("RateLimit-Policy")));
        Assert.Equal($"\"per_ip\";r=0;t={retryAfter}", Assert.Single(refused.Headers.GetValues("RateLimit")));
        Assert.Equal(3, _echo.RequestCount);
    }

    [Fact]
    public async Task A_refusal_is_sent_without_reading_the_request_body()
    {
        await RateLimitTestSupport.AwayFromWindowBoundaryAsync(3600);
        await using var gateway = await StartGatewayAsync();
        await gateway.UpsertRouteAsync("upload", "/upload", _echo.BaseAddress.ToString(), ("RateLimit", "per_ip"));
        await gateway.ReloadAsync();
        for (var i = 0; i < 3; i++)
        {
            (await gateway.Client.PostAsync("/upload", new StringContent("x"))).Dispose();
        }

        // Announce 10 MB and send none of it: only an answer that never waits for the body can come back.
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(gateway.Client.BaseAddress!.Host, gateway.Client.BaseAddress.Port);
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes("POST /upload HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/octet-stream\r\nContent-Length: 10000000\r\n\r\n"));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var buffer = new byte[4096];
        var read = await stream.ReadAsync(buffer, timeout.Token);

        Assert.StartsWith("HTTP/1.1 429 ", Encoding.ASCII.GetString(buffer, 0, read), StringComparison.Ordinal);
        Assert.Equal(3, _echo.RequestCount);
    }

    [Fact]
    public async Task A_route_without_a_rate_limit_carries_no_rate_limit_headers()
    {
        await using var gateway = await StartGatewayAsync();
        await gateway.UpsertRouteAsync("free", "/free", _echo.BaseAddress.ToString());
        await gateway.ReloadAsync();

        using var response = await gateway.Client.GetAsync("/free");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(response.Headers.Contains("RateLimit-Policy"));
        Assert.False(response.Headers.Contains("RateLimit"));
    }

    [Fact]
    public async Task A_route_naming_an_unknown_policy_is_rejected_and_says_which_exist()
    {
        await using var gateway = await StartGatewayAsync();
        // per-ip: the name before policy names took only letters, digits and '_' (a route not yet migrated).
        await gateway.UpsertRouteAsync("typo", "/typo", _echo.BaseAddress.ToString(), ("RateLimit", "per-ip"));
        await gateway.ReloadAsync();

        var rejected = (await gateway.AdminGetAsync("rejected")).GetProperty("rejected").EnumerateArray().Single(r => r.GetProperty("rowKey").GetString() == "typo");
        var reason = rejected.GetProperty("errors").EnumerateArray().Single().GetString();
        Assert.Equal("RateLimit names unknown policy 'per-ip'. Configured policies: pair_a, pair_b, per_ip, short.", reason);
        using var response = await gateway.Client.GetAsync("/typo");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task A_fixed_window_starts_afresh_at_its_boundary()
    {
        await using var gateway = await StartGatewayAsync();
        await gateway.UpsertRouteAsync("short", "/short", _echo.BaseAddress.ToString(), ("RateLimit", "short"));
        await gateway.ReloadAsync();
        await RateLimitTestSupport.UntilNextWindowAsync(3);

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++)
        {
            using var response = await gateway.Client.GetAsync("/short");
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                Assert.InRange(int.Parse(response.Headers.GetValues("Retry-After").Single(), CultureInfo.InvariantCulture), 1, 3);
            }
        }

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], statuses);
        await RateLimitTestSupport.UntilNextWindowAsync(3);
        using var again = await gateway.Client.GetAsync("/short");
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
    }

    [Fact]
    public async Task A_request_refused_by_one_policy_does_not_spend_the_others()
    {
        await RateLimitTestSupport.AwayFromWindowBoundaryAsync(3600);
        await using var gateway = await StartGatewayAsync();
        await gateway.UpsertRouteAsync("both", "/both", _echo.BaseAddress.ToString(), ("RateLimit", "pair_a,pair_b"));
        await gateway.UpsertRouteAsync("b-only", "/b-only", _echo.BaseAddress.ToString(), ("RateLimit", """["pair_b"]"""));
        await gateway.ReloadAsync();

        var both = new List<HttpStatusCode>();
        for (var i = 0; i < 6; i++)
        {
            using var response = await gateway.Client.GetAsync("/both");
            both.Add(response.StatusCode);
            Assert.Equal("\"pair_a\";q=2;w=3600, \"pair_b\";q=5;w=3600", string.Join(", ", response.Headers.GetValues("RateLimit-Policy")));
        }

        Assert.Equal(2, both.Count(s => s == HttpStatusCode.OK));
        var bOnly = new List<HttpStatusCode>();
        for (var i = 0; i < 4; i++)
        {
            using var response = await gateway.Client.GetAsync("/b-only");
            bOnly.Add(response.StatusCode);
        }

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], bOnly);
    }

    [Fact]
    public async Task A_request_the_second_policy_refuses_leaves_the_first_policys_count_unchanged_on_every_instance()
    {
        await RateLimitTestSupport.AwayFromWindowBoundaryAsync(3600);
        (string, string?)[] policies =
        [
            ("FuncGateway:RateLimits:Policies:first:Limit", "10"),
            ("FuncGateway:RateLimits:Policies:first:WindowSeconds", "3600"),
            ("FuncGateway:RateLimits:Policies:first:Mode", "Strict"),
            ("FuncGateway:RateLimits:Policies:second:Limit", "2"),
            ("FuncGateway:RateLimits:Policies:second:WindowSeconds", "3600"),
            ("FuncGateway:RateLimits:Policies:second:Mode", "Strict"),
            ("FuncGateway:RateLimits:Policies:second:PartitionBy", "Global"),
        ];
        await using var one = await StartGatewayAsync(null, policies);
        await using var two = await GatewayHost.StartAsync(azurite.ConnectionString, new Dictionary<string, string?>(Policies.Concat(policies.Select(p => KeyValuePair.Create(p.Item1, p.Item2)))), one.TablePrefix);
        await one.UpsertRouteAsync("both", "/both", _echo.BaseAddress.ToString(), ("RateLimit", "first,second"));
        await one.UpsertRouteAsync("first-only", "/first-only", _echo.BaseAddress.ToString(), ("RateLimit", "first"));
        await one.ReloadAsync();
        await two.ReloadAsync();

        // Two admitted; then each instance meets the refusal of 'second' after 'first' has admitted the request.
        var statuses = new List<HttpStatusCode>();
        var firstLeft = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            using var response = await (i % 2 == 0 ? one : two).Client.GetAsync("/both");
            statuses.Add(response.StatusCode);
            var limit = response.Headers.TryGetValues("RateLimit", out var values) ? string.Join(", ", values) : "";
            if (response.StatusCode == HttpStatusCode.TooManyRequests && limit.Contains("\"first\"", StringComparison.Ordinal))
            {
                firstLeft.Add(limit);
            }
        }

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests], statuses);

        // A refusal that took 'first''s permit and gave it back says what is left of 'first' after that: 8 of 10, not 7.
        Assert.NotEmpty(firstLeft);
        Assert.All(firstLeft, limit => Assert.Contains("\"first\";r=8;", limit, StringComparison.Ordinal));

        // The counter table says so: 'first' counted only the two requests that went through.
        var rows = await azurite.CreateTableServiceClient().GetTableClient(one.TablePrefix + "RateLimits").QueryAsync<TableEntity>().ToListAsync();
        Assert.Equal(2, Assert.Single(rows, r => r.GetString("Policy") == "first").GetInt64("Count"));
        Assert.Equal(2, Assert.Single(rows, r => r.GetString("Policy") == "second").GetInt64("Count"));

        // And the client notices: 8 of first's 10 are left for a route that only it limits.
        var firstOnly = new List<HttpStatusCode>();
        for (var i = 0; i < 9; i++)
        {
            firstOnly.Add(await GetAsync(i % 2 == 0 ? one : two, "/first-only"));
        }

        Assert.Equal(8, firstOnly.Count(s => s == HttpStatusCode.OK));
        Assert.Equal(HttpStatusCode.TooManyRequests, firstOnly[^1]);
        Assert.Equal(10, _echo.RequestCount);
    }

    [Fact]
    public async Task Spoofed_X_Forwarded_For_can_neither_dodge_nor_frame_a_per_ip_limit()
    {
        await RateLimitTestSupport.AwayFromWindowBoundaryAsync(3600);

        // No trusted proxy: the socket peer is the client, whatever the header says.
        await using (var direct = await StartGatewayAsync())
        {
            await direct.UpsertRouteAsync("ip", "/ip", _echo.BaseAddress.ToString(), ("RateLimit", "per_ip"));
            await direct.ReloadAsync();
            var statuses = new List<HttpStatusCode>();
            for (var i = 0; i < 5; i++)
            {
                statuses.Add(await GetAsync(direct, "/ip", $"198.51.100.{i}, 203.0.113.{i}"));
            }

            Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests], statuses);
        }

        // Behind a trusted proxy (the test client, on loopback): the right-most untrusted entry is the client. The
        // attacker (198.51.100.9, appended by the proxy) writes the victim's address and random ones to the left.
        await using var proxied = await StartGatewayAsync(more: ("FuncGateway:ForwardedHeaders:TrustedProxies", "127.0.0.1"));
        await proxied.UpsertRouteAsync("ip", "/ip", _echo.BaseAddress.ToString(), ("RateLimit", "per_ip"));
        await proxied.ReloadAsync();
        var attacker = new List<HttpStatusCode>();
        for (var i = 0; i < 4; i++)
        {
            attacker.Add(await GetAsync(proxied, "/ip", i % 2 == 0 ? "203.0.113.50, 198.51.100.9" : $"10.1.2.{i}, 198.51.100.9"));
        }

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], attacker);
        Assert.Equal(HttpStatusCode.OK, await GetAsync(proxied, "/ip", "203.0.113.50"));
    }

    [Fact]
    public async Task A_short_value_that_spells_a_long_values_hash_gets_a_counter_of_its_own()
    {
        // Values past 128 characters are counted by their SHA-256. A short value written as that hash must not
        // share the long value's counter: a client could otherwise drain (or use) another caller's limit.
        await RateLimitTestSupport.AwayFromWindowBoundaryAsync(3600);
        await using var gateway = await StartGatewayAsync(more:
        [
            ("FuncGateway:RateLimits:Policies:per_tenant:Limit", "1"),
            ("FuncGateway:RateLimits:Policies:per_tenant:WindowSeconds", "3600"),
            ("FuncGateway:RateLimits:Policies:per_tenant:Mode", "Strict"),
            ("FuncGateway:RateLimits:Policies:per_tenant:PartitionBy", "Header:X-Tenant"),
        ]);
        await gateway.UpsertRouteAsync("tenants", "/tenants", _echo.BaseAddress.ToString(), ("RateLimit", "per_tenant"));
        await gateway.ReloadAsync();
        var victim = "tenant-" + Guid.NewGuid().ToString("N") + new string('v', 140);
        var lookAlike = "sha256-" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(victim)));

        async Task<HttpStatusCode> AsTenantAsync(string tenant)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/tenants");
            request.Headers.Add("X-Tenant", tenant);
            using var response = await gateway.Client.SendAsync(request);
            return response.StatusCode;
        }

        Assert.Equal(HttpStatusCode.OK, await AsTenantAsync(victim));
        Assert.Equal(HttpStatusCode.OK, await AsTenantAsync(lookAlike));
        Assert.Equal(HttpStatusCode.TooManyRequests, await AsTenantAsync(lookAlike));
        Assert.Equal(HttpStatusCode.TooManyRequests, await AsTenantAsync(victim));
    }

    [Theory]
    [InlineData("Strict")]
    [InlineData("Fast")]
    public async Task Concurrent_requests_never_take_more_than_a_token_buckets_burst(string mode)
    {
        // One token an hour: the burst is all there is while the test runs.
        await using var gateway = await StartGatewayAsync(more:
        [
            ("FuncGateway:RateLimits:Policies:bucket:Algorithm", "TokenBucket"),
            ("FuncGateway:RateLimits:Policies:bucket:Limit", "1"),
            ("FuncGateway:RateLimits:Policies:bucket:Burst", "20"),
            ("FuncGateway:RateLimits:Policies:bucket:WindowSeconds", "3600"),
            ("FuncGateway:RateLimits:Policies:bucket:Mode", mode),
            ("FuncGateway:RateLimits:OperationTimeoutSeconds", "15"),
        ]);
        await gateway.UpsertRouteAsync("bucket", "/bucket", _echo.BaseAddress.ToString(), ("RateLimit", "bucket"));
        await gateway.ReloadAsync();

        var statuses = await Task.WhenAll(Enumerable.Range(0, 100).Select(_ => GetAsync(gateway, "/bucket")));

        var admitted = statuses.Count(s => s == HttpStatusCode.OK);
        Assert.Equal(100 - admitted, statuses.Count(s => s == HttpStatusCode.TooManyRequests));
        Assert.InRange(admitted, mode == "Strict" ? 20 : 1, 21);
        Assert.Equal(admitted, _echo.RequestCount);
    }

    [Fact]
    public async Task With_storage_down_fail_open_limits_locally_fail_closed_answers_503_and_nothing_answers_500()
    {
        await using var storage = await AzuriteInstance.StartAsync();
        await using var gateway = await StartGatewayAsync(storage.ConnectionString,
            ("FuncGateway:RateLimits:InstanceEstimate", "4"),
            ("FuncGateway:RateLimits:OutageBackoffSeconds", "1"),
            ("FuncGateway:RateLimits:OperationTimeoutSeconds", "1"),
            ("FuncGateway:RateLimits:Policies:open:Limit", "100"),
            ("FuncGateway:RateLimits:Policies:open:WindowSeconds", "3600"),
            ("FuncGateway:RateLimits:Policies:open:Mode", "Strict"),
            ("FuncGateway:RateLimits:Policies:closed:Limit", "100"),
            ("FuncGateway:RateLimits:Policies:closed:WindowSeconds", "3600"),
            ("FuncGateway:RateLimits:Policies:closed:FailurePolicy", "FailClosed"));
        await gateway.UpsertRouteAsync("open", "/open", _echo.BaseAddress.ToString(), ("RateLimit", "open"));
        await gateway.UpsertRouteAsync("closed", "/closed", _echo.BaseAddress.ToString(), ("RateLimit", "closed"));
        await gateway.ReloadAsync();
        await RateLimitTestSupport.AwayFromWindowBoundaryAsync(3600);
        Assert.Equal(HttpStatusCode.OK, await GetAsync(gateway, "/open"));
        Assert.Equal(HttpStatusCode.OK, await GetAsync(gateway, "/closed"));

        await storage.StopAsync();

        // Fail-open: a local limiter with 100 / 4 = 25 per window on this instance.
        var open = new List<HttpStatusCode>();
        for (var i = 0; i < 30; i++)
        {
            open.Add(await GetAsync(gateway, "/open"));
        }

        Assert.Equal(25, open.Count(s => s == HttpStatusCode.OK));
        Assert.Equal(5, open.Count(s => s == HttpStatusCode.TooManyRequests));

        using (var closed = await gateway.Client.GetAsync("/closed"))
        {
            await Problem.AssertAsync(closed, HttpStatusCode.ServiceUnavailable, "rate_limit_unavailable");
            Assert.Equal("1", Assert.Single(closed.Headers.GetValues("Retry-After")));
        }

        // Storage back (empty: in memory): the shared counters resume, the table is created again on first write.
        await storage.RestartAsync();
        await RateLimitTestSupport.WaitUntilAsync(async () => await GetAsync(gateway, "/closed") == HttpStatusCode.OK);
        var rows = storage.CreateTableServiceClient().GetTableClient(gateway.TablePrefix + "RateLimits").QueryAsync<TableEntity>();
        Assert.NotEmpty(await rows.ToListAsync());
    }

    [Fact]
    public async Task The_counter_table_is_created_on_start_and_expired_rows_are_deleted_by_the_background_service()
    {
        await using var gateway = await StartGatewayAsync(null,
            ("FuncGateway:RateLimits:MaintenanceIntervalSeconds", "1"),
            ("FuncGateway:RateLimits:RetentionSeconds", "0"));
        var table = azurite.CreateTableServiceClient().GetTableClient(gateway.TablePrefix + "RateLimits");
        await RateLimitTestSupport.WaitUntilAsync(async () =>
        {
            await foreach (var _ in azurite.CreateTableServiceClient().QueryAsync(t => t.Name == table.Name))
            {
                return true;
            }

            return false;
        });
        await gateway.UpsertRouteAsync("short", "/short", _echo.BaseAddress.ToString(), ("RateLimit", "short"));
        await gateway.ReloadAsync();

        // Counted early in a window, so the row cannot expire (and be deleted by the 1 s maintenance) before it is read
        // back: counted just before a boundary, it could be gone by the time the query below runs.
        await RateLimitTestSupport.UntilNextWindowAsync(3);
        Assert.Equal(HttpStatusCode.OK, await GetAsync(gateway, "/short"));
        var row = Assert.Single(await table.QueryAsync<TableEntity>().ToListAsync());
        Assert.Equal(1, row.GetInt64("Count"));
        Assert.Equal("short", row.GetString("Policy"));
        Assert.Equal("ClientIp", row.GetString("PartitionBy"));
        Assert.DoesNotContain(row, p => p.Value is string s && s.Contains("127.0.0.1", StringComparison.Ordinal));
        Assert.StartsWith("short-", row.PartitionKey, StringComparison.Ordinal);

        await RateLimitTestSupport.WaitUntilAsync(async () => (await table.QueryAsync<TableEntity>().ToListAsync()).Count == 0);
    }

    [Fact]
    public async Task Bad_rate_limit_settings_stop_the_gateway_with_every_problem_named()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await using var gateway = await StartGatewayAsync(null,
                ("FuncGateway:RateLimits:Policies:broken:Limit", "lots"),
                ("FuncGateway:RateLimits:Policies:broken:Algorithm", "LeakyBucket"));
        });

        Assert.Contains("FuncGateway:RateLimits:Policies:broken:Limit must be a whole number, not 'lots'.", error.Message, StringComparison.Ordinal);
        Assert.Contains("FuncGateway:RateLimits:Policies:broken:Algorithm must be one of", error.Message, StringComparison.Ordinal);
    }

    private static async Task<HttpStatusCode> GetAsync(GatewayHost gateway, string path, string? forwardedFor = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (forwardedFor is not null)
        {
            request.Headers.Add("X-Forwarded-For", forwardedFor);
        }

        using var response = await gateway.Client.SendAsync(request);
        Assert.True((int)response.StatusCode < 500 || response.StatusCode == HttpStatusCode.ServiceUnavailable, $"{path} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return response.StatusCode;
    }

    [GeneratedRegex("^\"per_ip\";r=(?<r>[0-9]+);t=(?<t>[0-9]+)$")]
    private static partial Regex RateLimitItem();
}
