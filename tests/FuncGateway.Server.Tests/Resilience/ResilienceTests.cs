using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using FuncGateway.Server.Tests.Infrastructure;
using FuncGateway.Testing;

namespace FuncGateway.Server.Tests.Resilience;

/// <summary>Circuit breakers, retries, and what clients see when everything is down, against real Kestrel upstreams.</summary>
[Collection("Azurite")]
public sealed class ResilienceTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private GatewayHost _gateway = null!;

    public async Task InitializeAsync() => _gateway = await GatewayHost.StartAsync(azurite.ConnectionString);

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    private static (Uri, int)[] Instances(params ControllableUpstream[] upstreams) => upstreams.Select(u => (u.BaseAddress, 1)).ToArray();

    private static Uri Dead() => new($"http://127.0.0.1:{LoopbackPorts.GetRefusing()}/");

    private async Task<JsonElement> InstanceAsync(string pool, int index)
    {
        var health = await _gateway.AdminGetAsync("health");
        var match = health.GetProperty("pools").EnumerateArray().Single(p => p.GetProperty("name").GetString() == pool);
        return match.GetProperty("instances")[index];
    }

    [Fact]
    public async Task An_instance_killed_under_load_fails_no_GET_or_HEAD_and_only_the_POSTs_it_swallowed()
    {
        await using var a = await ControllableUpstream.StartAsync("a");
        await using var b = await ControllableUpstream.StartAsync("b");
        await using var victim = await ControllableUpstream.StartAsync("victim");
        await _gateway.UpsertPoolAsync("trio", Instances(a, b, victim));
        await _gateway.UpsertRouteAsync("trio", "/trio/{**rest}", "trio");
        await _gateway.ReloadAsync();

        const int workers = 6;
        var failures = new System.Collections.Concurrent.ConcurrentDictionary<string, int>();
        var completed = 0;
        using var stop = new CancellationTokenSource();
        var load = Enumerable.Range(0, workers).Select(w => Task.Run(async () =>
        {
            var methods = new[] { HttpMethod.Get, HttpMethod.Head, HttpMethod.Post };
            for (var i = w; !stop.IsCancellationRequested; i++)
            {
                var method = methods[i % methods.Length];
                using var request = new HttpRequestMessage(method, $"/trio/item/{i}");
                if (method == HttpMethod.Post)
                {
                    request.Content = new StringContent("{\"n\":" + i + "}");
                }

                try
                {
                    using var response = await _gateway.Client.SendAsync(request);
                    if (!response.IsSuccessStatusCode)
                    {
                        failures.AddOrUpdate(method.Method, 1, (_, n) => n + 1);
                    }
                }
                catch (HttpRequestException)
                {
                    failures.AddOrUpdate(method.Method, 1, (_, n) => n + 1);
                }

                Interlocked.Increment(ref completed);
            }
        })).ToArray();

        await WaitUntilAsync(() => Volatile.Read(ref completed) >= 60);
        var beforeKill = Volatile.Read(ref completed);
        victim.Abort = true;
        await victim.StopAsync();
        await WaitUntilAsync(() => Volatile.Read(ref completed) >= beforeKill + 150);
        var victimAfterKill = victim.Requests;
        await WaitUntilAsync(() => Volatile.Read(ref completed) >= beforeKill + 300);
        await stop.CancelAsync();
        await Task.WhenAll(load);

        Assert.Equal(0, failures.GetValueOrDefault("GET"));
        Assert.Equal(0, failures.GetValueOrDefault("HEAD"));
        Assert.InRange(failures.GetValueOrDefault("POST"), 0, workers);
        Assert.Equal(victimAfterKill, victim.Requests);
        Assert.True(a.Requests > 0 && b.Requests > 0);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        for (var i = 0; i < 1_000 && !condition(); i++)
        {
            await Task.Delay(10);
        }

        Assert.True(condition(), "timed out waiting for the load");
    }

    [Fact]
    public async Task The_breaker_opens_fails_fast_then_half_opens_with_exactly_one_probe()
    {
        await using var upstream = await ControllableUpstream.StartAsync("flaky");
        upstream.Status = 500;
        await _gateway.UpsertPoolAsync("flaky", Instances(upstream),
            ("CircuitBreaker", """{"minimumThroughput":4,"failureRatio":0.5,"breakSeconds":1}"""));
        await _gateway.UpsertRouteAsync("flaky", "/flaky", "flaky", ("Retries", """{"maxRetries":0}"""));
        await _gateway.ReloadAsync();

        for (var i = 0; i < 4; i++)
        {
            using var failing = await _gateway.Client.GetAsync("/flaky");
            Assert.Equal(HttpStatusCode.InternalServerError, failing.StatusCode);
            Assert.Equal("flaky says 500", await failing.Content.ReadAsStringAsync());
        }

        using var fast = await _gateway.Client.GetAsync("/flaky");
        await Problem.AssertAsync(fast, HttpStatusCode.ServiceUnavailable, "no_upstream_available");
        Assert.InRange(int.Parse(fast.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture), 1, 1);
        Assert.Equal(4, upstream.Requests);
        Assert.Equal("Open", (await InstanceAsync("flaky", 0)).GetProperty("circuit").GetProperty("state").GetString());

        // Requests reaching the upstream are held until every request of the burst has been answered or is held there:
        // with a fixed delay instead, a request of the burst that reached the gateway only after the probe came back
        // (a busy machine) would find the circuit closed and pass too.
        upstream.Status = 0;
        upstream.Hold();
        await Task.Delay(1_100);
        var sent = Enumerable.Range(0, 5).Select(_ => _gateway.Client.GetAsync("/flaky")).ToList();
        await WaitUntilAsync(() => sent.Count(r => r.IsCompleted) + (upstream.Requests - 4) >= sent.Count);
        upstream.Release();
        var burst = await Task.WhenAll(sent);

        Assert.Equal(5, upstream.Requests);
        Assert.Single(burst, r => r.StatusCode == HttpStatusCode.OK);
        Assert.Equal(4, burst.Count(r => r.StatusCode == HttpStatusCode.ServiceUnavailable));
        using var closed = await _gateway.Client.GetAsync("/flaky");
        Assert.Equal(HttpStatusCode.OK, closed.StatusCode);
        Assert.Equal("Closed", (await InstanceAsync("flaky", 0)).GetProperty("circuit").GetProperty("state").GetString());
        foreach (var response in burst)
        {
            response.Dispose();
        }
    }

    [Fact]
    public async Task A_flood_of_client_errors_never_opens_the_breaker()
    {
        await using var upstream = await ControllableUpstream.StartAsync("picky");
        await _gateway.UpsertPoolAsync("picky", Instances(upstream), ("CircuitBreaker", """{"minimumThroughput":4,"failureRatio":0.1}"""));
        await _gateway.UpsertRouteAsync("picky", "/picky", "picky");
        await _gateway.ReloadAsync();

        foreach (var status in new[] { 400, 401, 403, 404, 409, 422, 429 })
        {
            upstream.Status = status;
            for (var i = 0; i < 10; i++)
            {
                using var response = await _gateway.Client.GetAsync("/picky");
                Assert.Equal(status, (int)response.StatusCode);
            }
        }

        Assert.Equal(70, upstream.Requests);
        Assert.Equal("Closed", (await InstanceAsync("picky", 0)).GetProperty("circuit").GetProperty("state").GetString());
    }

    [Fact]
    public async Task A_retryable_5xx_is_retried_on_another_instance_for_GET_but_a_POST_is_never_repeated()
    {
        await using var unwell = await ControllableUpstream.StartAsync("unwell");
        await using var well = await ControllableUpstream.StartAsync("well");
        unwell.Status = 503;
        await _gateway.UpsertPoolAsync("mixed", Instances(unwell, well), ("CircuitBreaker", """{"enabled":false}"""));
        await _gateway.UpsertRouteAsync("mixed", "/mixed", "mixed");
        await _gateway.ReloadAsync();

        for (var i = 0; i < 10; i++)
        {
            Assert.Equal("well", (await Echo.ReadAsync(await _gateway.Client.GetAsync("/mixed"))).Instance);
        }

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 10; i++)
        {
            using var response = await _gateway.Client.PostAsync("/mixed", new StringContent("order " + i));
            statuses.Add(response.StatusCode);
        }

        Assert.Equal(5, unwell.RequestsFor("GET"));
        Assert.Equal(5, statuses.Count(s => s == HttpStatusCode.ServiceUnavailable));
        Assert.Equal(5, unwell.RequestsFor("POST"));
        Assert.Equal(5, well.RequestsFor("POST"));
    }

    [Fact]
    public async Task A_held_back_503_is_what_the_client_gets_when_its_retry_cannot_connect_transformed_and_not_replaced_by_the_fallback()
    {
        // Round robin sends every other request to the 503 first: it is held back, and the retry finds a dead port.
        await using var unwell = await ControllableUpstream.StartAsync("unwell");
        unwell.Status = 503;
        unwell.RetryAfter = "30";
        await _gateway.UpsertPoolAsync("unwell-dead", [(unwell.BaseAddress, 1), (Dead(), 1)], ("CircuitBreaker", """{"enabled":false}"""));
        await _gateway.UpsertRouteAsync("unwell-dead", "/unwell-dead", "unwell-dead",
            ("Transforms", """[{"ResponseHeader":"X-Via","Set":"gateway"}]"""), ("Fallback", """{"status":200,"body":"fallback"}"""));
        await _gateway.ReloadAsync();

        for (var i = 0; i < 4; i++)
        {
            using var response = await _gateway.Client.GetAsync("/unwell-dead");

            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Equal("30", response.Headers.GetValues("Retry-After").Single());
            Assert.Equal("unwell", response.Headers.GetValues("X-Upstream").Single());
            Assert.Equal("gateway", response.Headers.GetValues("X-Via").Single());
            Assert.Equal("unwell says 503", await response.Content.ReadAsStringAsync());
        }

        Assert.Equal(4, unwell.Requests);
    }

    [Fact]
    public async Task A_held_back_503_is_what_the_client_gets_when_no_instance_is_left_for_its_retry()
    {
        // The request is at the 503 instance (held there) when the other one is written unhealthy: the 503 is held back
        // for a retry that then finds no instance.
        await using var unwell = await ControllableUpstream.StartAsync("unwell");
        await using var other = await ControllableUpstream.StartAsync("other");
        unwell.Status = 503;
        unwell.RetryAfter = "30";
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString, new Dictionary<string, string?>
        {
            ["FuncGateway:Health:ProbeEnabled"] = "false",
            ["FuncGateway:Health:RefreshIntervalSeconds"] = "0.2",
        });
        await gateway.UpsertPoolAsync("pool", [(unwell.BaseAddress, 1), (other.BaseAddress, 1)],
            ("HealthCheck", """{"intervalSeconds":5}"""), ("CircuitBreaker", """{"enabled":false}"""));
        await gateway.UpsertRouteAsync("app", "/app", "pool", ("Retries", """{"maxRetries":1,"retryOnStatus":[503]}"""));
        await gateway.ReloadAsync();

        unwell.Hold();
        var pending = gateway.Client.GetAsync("/app");
        await WaitUntilAsync(() => unwell.Requests == 1 || pending.IsCompleted);
        Assert.False(pending.IsCompleted, "the first request went to the first instance");
        await gateway.MarkUnhealthyAsync("pool", other.BaseAddress);
        var url = other.BaseAddress.ToString().TrimEnd('/');
        var gone = false;
        for (var i = 0; i < 1_000 && !gone; i++)
        {
            var health = await gateway.AdminGetAsync("health");
            var pool = health.GetProperty("pools").EnumerateArray().Single(p => p.GetProperty("name").GetString() == "pool");
            gone = pool.GetProperty("instances").EnumerateArray()
                .Any(i => i.GetProperty("url").GetString()!.TrimEnd('/') == url && !i.GetProperty("available").GetBoolean());
            if (!gone)
            {
                await Task.Delay(10);
            }
        }

        Assert.True(gone, "the other instance is out");
        unwell.Release();
        using var response = await pending;

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("30", response.Headers.GetValues("Retry-After").Single());
        Assert.Equal("unwell says 503", await response.Content.ReadAsStringAsync());
        Assert.Equal(0, other.Requests);
    }

    [Fact]
    public async Task A_refused_connection_is_retried_elsewhere_for_any_method_because_nothing_was_sent()
    {
        await using var well = await ControllableUpstream.StartAsync("well");
        await _gateway.UpsertPoolAsync("half", [(Dead(), 1), (well.BaseAddress, 1)], ("CircuitBreaker", """{"enabled":false}"""));
        await _gateway.UpsertRouteAsync("half", "/half", "half");
        await _gateway.ReloadAsync();

        for (var i = 0; i < 6; i++)
        {
            using var response = await _gateway.Client.PostAsync("/half", new StringContent("payload " + i));
            Assert.Equal("payload " + i, (await Echo.ReadAsync(response)).Body);
        }

        Assert.Equal(6, well.RequestsFor("POST"));
    }

    [Fact]
    public async Task When_every_instance_is_down_clients_get_a_fast_503_with_retry_after_or_the_route_s_fallback()
    {
        await _gateway.UpsertPoolAsync("down", [(Dead(), 1), (Dead(), 1)], ("CircuitBreaker", """{"minimumThroughput":2,"breakSeconds":30}"""));
        await _gateway.UpsertRouteAsync("down", "/down", "down");
        await _gateway.UpsertRouteAsync("down-fallback", "/down-fallback", "down",
            ("Fallback", """{"status":200,"headers":{"Content-Type":"application/json","X-Fallback":"yes"},"body":"{\"items\":[]}"}"""));
        await _gateway.ReloadAsync();

        // Each request tries both instances; two requests give each instance two failures, which opens both circuits.
        for (var i = 0; i < 2; i++)
        {
            await Problem.AssertAsync(await _gateway.Client.GetAsync("/down"), HttpStatusCode.BadGateway, "upstream_unreachable");
        }

        using var down = await _gateway.Client.GetAsync("/down");
        await Problem.AssertAsync(down, HttpStatusCode.ServiceUnavailable, "no_upstream_available");
        Assert.InRange(int.Parse(down.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture), 25, 30);

        using var fallback = await _gateway.Client.GetAsync("/down-fallback");
        Assert.Equal(HttpStatusCode.OK, fallback.StatusCode);
        Assert.Equal("application/json", fallback.Content.Headers.ContentType!.MediaType);
        Assert.Equal("yes", fallback.Headers.GetValues("X-Fallback").Single());
        Assert.Equal("{\"items\":[]}", await fallback.Content.ReadAsStringAsync());

        using var head = await _gateway.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/down-fallback"));
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task A_fallback_also_replaces_the_502_when_every_attempt_failed()
    {
        await _gateway.UpsertPoolAsync("gone", [(Dead(), 1)], ("CircuitBreaker", """{"enabled":false}"""));
        await _gateway.UpsertRouteAsync("gone", "/gone", "gone", ("Fallback", """{"status":503,"headers":{"Retry-After":"120"},"body":"back soon"}"""));
        await _gateway.ReloadAsync();

        using var response = await _gateway.Client.GetAsync("/gone");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("120", response.Headers.GetValues("Retry-After").Single());
        Assert.Equal("text/plain", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal("back soon", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_half_open_probe_that_streams_for_long_closes_the_circuit_when_its_headers_arrive()
    {
        // A one-instance pool whose circuit opens; the half-open probe is a long stream (a download, server-sent events).
        var failing = true;
        var endStream = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var upstream = await TestUpstream.StartAsync("streamer", app => app.Respond(async context =>
        {
            if (context.Request.Path == "/sse/stream")
            {
                await context.Response.WriteAsync("data: 1\n\n", context.RequestAborted);
                await context.Response.Body.FlushAsync(context.RequestAborted);
                await endStream.Task.WaitAsync(context.RequestAborted);
                return;
            }

            context.Response.StatusCode = Volatile.Read(ref failing) ? 500 : 200;
            await context.Response.WriteAsync("short", context.RequestAborted);
        }));
        await _gateway.UpsertPoolAsync("sse", [(upstream.BaseAddress, 1)], ("CircuitBreaker", """{"minimumThroughput":2,"failureRatio":0.5,"breakSeconds":1}"""));
        await _gateway.UpsertRouteAsync("sse", "/sse/{**rest}", "sse");
        await _gateway.ReloadAsync();

        for (var i = 0; i < 2; i++)
        {
            using var failed = await _gateway.Client.GetAsync("/sse/x");
            Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
        }

        using var refused = await _gateway.Client.GetAsync("/sse/x");
        await Problem.AssertAsync(refused, HttpStatusCode.ServiceUnavailable, "no_upstream_available");
        Volatile.Write(ref failing, false);
        await Task.Delay(1_100);

        // The stream is the half-open probe: its headers say the instance is back, though its body goes on.
        using var stream = await _gateway.Client.GetAsync("/sse/stream", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, stream.StatusCode);
        try
        {
            for (var i = 0; i < 3; i++)
            {
                using var meanwhile = await _gateway.Client.GetAsync("/sse/x");
                Assert.Equal(HttpStatusCode.OK, meanwhile.StatusCode);
                Assert.Equal("short", await meanwhile.Content.ReadAsStringAsync());
            }

            Assert.Equal("Closed", (await InstanceAsync("sse", 0)).GetProperty("circuit").GetProperty("state").GetString());
        }
        finally
        {
            endStream.TrySetResult();
        }
    }

    [Fact]
    public async Task An_upstream_that_breaks_the_exchange_is_upstream_error_and_one_that_cannot_be_reached_is_upstream_unreachable()
    {
        // Connected, then closed without an answer; connected, then a head over the client's limit (64 KiB).
        await using var hangsUp = RawUpstream.Start(async (connection, token) =>
        {
            await connection.Reader.ReadHeadAsync(token);
        });
        await using var hugeHead = RawUpstream.Start(async (connection, token) =>
        {
            await connection.Reader.ReadHeadAsync(token);
            var headers = string.Concat(Enumerable.Range(0, 100).Select(i => $"X-Big-{i}: {new string('a', 1000)}\r\n"));
            await connection.WriteAsync($"HTTP/1.1 200 OK\r\n{headers}Content-Length: 2\r\n\r\nok", token);
            await Task.Delay(Timeout.Infinite, token);
        });

        // A listener that never accepts, its backlog full: connection attempts get no answer at all.
        using var blackHole = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        blackHole.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        blackHole.Listen(0);
        var blackHolePort = ((IPEndPoint)blackHole.LocalEndPoint!).Port;
        var fillers = new List<Socket>();
        try
        {
            for (var i = 0; i < 4; i++)
            {
                var filler = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { Blocking = false };
                try
                {
                    filler.Connect(IPAddress.Loopback, blackHolePort);
                }
                catch (SocketException)
                {
                    // In progress (or refused): either way it takes a place in the backlog or shows it is full.
                }

                fillers.Add(filler);
            }

            await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString, new Dictionary<string, string?>
            {
                ["FuncGateway:Forwarding:ConnectTimeoutSeconds"] = "1",
            });
            await gateway.UpsertRouteAsync("hangs-up", "/hangs-up", hangsUp.BaseAddress.ToString());
            await gateway.UpsertRouteAsync("huge-head", "/huge-head", hugeHead.BaseAddress.ToString());
            await gateway.UpsertRouteAsync("black-hole", "/black-hole", $"http://127.0.0.1:{blackHolePort}", ("TimeoutSeconds", 30.0));
            await gateway.UpsertRouteAsync("dead", "/dead", Dead().ToString());
            await gateway.ReloadAsync();

            await Problem.AssertAsync(await gateway.Client.GetAsync("/hangs-up"), HttpStatusCode.BadGateway, "upstream_error");
            await Problem.AssertAsync(await gateway.Client.GetAsync("/huge-head"), HttpStatusCode.BadGateway, "upstream_error");
            await Problem.AssertAsync(await gateway.Client.GetAsync("/dead"), HttpStatusCode.BadGateway, "upstream_unreachable");
            var started = System.Diagnostics.Stopwatch.StartNew();
            await Problem.AssertAsync(await gateway.Client.GetAsync("/black-hole"), HttpStatusCode.BadGateway, "upstream_unreachable");
            Assert.InRange(started.Elapsed, TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(10));
        }
        finally
        {
            foreach (var filler in fillers)
            {
                filler.Dispose();
            }
        }
    }
}
