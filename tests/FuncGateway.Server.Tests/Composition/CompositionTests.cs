using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using FuncGateway.Authentication.Basic;
using FuncGateway.Server.Tests.Diagnostics;
using FuncGateway.Server.Tests.Infrastructure;
using FuncGateway.Server.Tests.Resilience;
using FuncGateway.Testing;
using Microsoft.AspNetCore.Http;

namespace FuncGateway.Server.Tests.Composition;

/// <summary>
/// Response aggregation (<c>Composition</c>) against real Kestrel upstreams on 127.0.0.1 and real Azurite: parts in
/// parallel and in dependency order, merged by name or by a Liquid template, optional and required failures, and
/// each part through its pool's balancing, breakers and the caller's identity.
/// </summary>
[Collection("Azurite")]
public sealed class CompositionTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private GatewayHost _gateway = null!;
    private TestUpstream _echo = null!;
    private TestUpstream _users = null!;

    public async Task InitializeAsync()
    {
        _echo = await TestUpstream.StartAsync("echo");

        // A users service: /users/{id} answers JSON about that user, /users/missing a 404.
        _users = await TestUpstream.StartAsync("users", app => app.Respond(async context =>
        {
            var id = context.Request.Path.Value!["/users/".Length..];
            if (id == "missing")
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return;
            }

            await context.Response.WriteAsJsonAsync(new { id = "u-" + id, name = "Ada", tier = "gold", user = context.Request.Headers["X-User-Id"].ToString() });
        }));
        _gateway = await GatewayHost.StartAsync(azurite.ConnectionString, new Dictionary<string, string?>
        {
            ["FuncGateway:Auth:Policies:staff:Type"] = "Basic",
            ["FuncGateway:Auth:Policies:staff:Users:alice"] = PasswordHash.Create("correct horse", PasswordHash.MinimumIterations).ToString(),
        });
        await _gateway.UpsertUpstreamAsync("echo", _echo.BaseAddress);
        await _gateway.UpsertUpstreamAsync("users", _users.BaseAddress);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _echo.DisposeAsync();
        await _users.DisposeAsync();
    }

    private static string Composition(string parts, string? template = null) =>
        JsonSerializer.Serialize(new { parts = JsonDocument.Parse(parts).RootElement, template });

    private static AuthenticationHeaderValue Alice() => new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("alice:correct horse")));

    private static Uri Dead() => new($"http://127.0.0.1:{LoopbackPorts.GetRefusing()}/");

    [Fact]
    public async Task Parallel_parts_are_merged_by_name_and_each_gets_the_callers_identity_but_not_the_clients_identity_headers()
    {
        await _gateway.UpsertRouteAsync("profile", "/profile/{id}", null, ("Auth", "staff"), ("Composition", Composition("""
            [{"name":"user","upstream":"users","path":"/users/{id}"},
             {"name":"audit","upstream":"echo","path":"/audit/{id}?view={query.view}","method":"HEAD"},
             {"name":"prefs","upstream":"echo","path":"/prefs/{id}"}]
            """)));
        await _gateway.ReloadAsync();

        using var request = new HttpRequestMessage(HttpMethod.Get, "/profile/7?view=full");
        request.Headers.Authorization = Alice();
        request.Headers.Add("X-User-Id", "mallory");
        request.Headers.Add("X-Consumer-Tier", "platinum");
        request.Headers.Add("Accept-Language", "fr");
        using var response = await _gateway.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json; charset=utf-8", response.Content.Headers.ContentType?.ToString());
        Assert.False(response.Headers.Contains("X-Composition-Failed"));
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(["user", "audit", "prefs"], body.EnumerateObject().Select(p => p.Name));
        Assert.Equal("u-7", body.GetProperty("user").GetProperty("id").GetString());
        Assert.Equal("alice", body.GetProperty("user").GetProperty("user").GetString());
        Assert.Equal(JsonValueKind.Null, body.GetProperty("audit").ValueKind);

        var prefs = new Echo(body.GetProperty("prefs"));
        Assert.Equal("GET", prefs.Method);
        Assert.Equal("/prefs/7", prefs.Path);
        Assert.Equal(["alice"], prefs.Header("X-User-Id"));
        Assert.Equal(["staff"], prefs.Header("X-Gateway-Auth-Policy"));
        Assert.Empty(prefs.Header("X-Consumer-Tier"));
        Assert.Empty(prefs.Header("Authorization"));
        Assert.Equal(["fr"], prefs.Header("Accept-Language"));
        Assert.Equal(["application/json"], prefs.Header("Accept"));
        Assert.Equal(2, _echo.RequestCount);
    }

    [Fact]
    public async Task A_dependent_part_uses_a_value_of_an_earlier_answer_and_the_template_shapes_the_response()
    {
        await _gateway.UpsertRouteAsync("dashboard", "/dashboard/{id}", null, ("Composition", Composition("""
            [{"name":"orders","upstream":"echo","path":"/orders?customer={parts.user.body.id}&tier={parts.user.body.tier}","dependsOn":["user"]},
             {"name":"user","upstream":"users","path":"/users/{id}","timeoutMs":2000}]
            """, """{"id": {{ route.id | json }}, "name": {{ parts.user.body.name | json }}, "ordersQuery": {{ parts.orders.body.query | json }}, "userStatus": {{ parts.user.status }}}""")));
        await _gateway.ReloadAsync();

        await _gateway.UpsertRouteAsync("search", "/search", null, ("Composition", Composition("""
            [{"name":"hits","upstream":"echo","path":"/find/{query.q}?q={query.q}"},
             {"name":"ads","upstream":"users","path":"/users/missing","required":false}]
            """, """{"path": {{ parts.hits.body.path | json }}, "query": {{ parts.hits.body.query | json }}, "ads": {{ parts.ads.body | json }}}""")));
        await _gateway.ReloadAsync();

        using var response = await _gateway.Client.GetAsync("/dashboard/42");

        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        Assert.Equal("""{"id":"42","name":"Ada","ordersQuery":"?customer=u-42\u0026tier=gold","userStatus":200}""", text);

        // Values are percent-encoded: '&' or '?' in a value adds no parameter. A failed optional part is nil in the
        // template (json: null), and the template's object gets _partial.
        using var search = await _gateway.Client.GetAsync("/search?q=" + Uri.EscapeDataString("a b&c?d/e"));
        var body = await search.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(search.StatusCode == HttpStatusCode.BadGateway, body.ToString());
        Assert.Equal("bad_value", body.GetProperty("reason").GetString());

        using var ok = await _gateway.Client.GetAsync("/search?q=" + Uri.EscapeDataString("a b&c?d"));
        body = await ok.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(ok.StatusCode == HttpStatusCode.OK, body.ToString());
        Assert.Equal("/find/a%20b&c%3Fd", body.GetProperty("path").GetString());
        Assert.Equal("?q=a%20b%26c%3Fd", body.GetProperty("query").GetString());
        Assert.Equal(JsonValueKind.Null, body.GetProperty("ads").ValueKind);
        var failed = Assert.Single(body.GetProperty("_partial").GetProperty("failed").EnumerateArray());
        Assert.Equal("ads", failed.GetProperty("part").GetString());
        Assert.Equal("status", failed.GetProperty("reason").GetString());
        Assert.Equal(404, failed.GetProperty("status").GetInt32());
        Assert.Equal("ads", Assert.Single(ok.Headers.GetValues("X-Composition-Failed")));
    }

    [Fact]
    public async Task A_slow_optional_part_is_left_out_within_its_timeout_and_listed()
    {
        // The part's upstream takes ten minutes: that the gateway answers at all (before the client's own timeout) shows
        // the part's 300-ms timeout cut it. No wall-clock bound, which a loaded machine could break.
        await using var slow = await ControllableUpstream.StartAsync("slow");
        slow.Delay = TimeSpan.FromMinutes(10);
        await _gateway.UpsertRouteAsync("home", "/home/{id}", null, ("Composition", Composition($$"""
            [{"name":"user","upstream":"users","path":"/users/{id}"},
             {"name":"recommendations","upstream":"{{slow.BaseAddress}}","path":"/recs/{id}","timeoutMs":300,"required":false}]
            """)));
        await _gateway.ReloadAsync();

        using var response = await _gateway.Client.GetAsync("/home/7");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("recommendations", Assert.Single(response.Headers.GetValues("X-Composition-Failed")));
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("u-7", body.GetProperty("user").GetProperty("id").GetString());
        Assert.False(body.TryGetProperty("recommendations", out _));
        var failed = Assert.Single(body.GetProperty("_partial").GetProperty("failed").EnumerateArray());
        Assert.Equal("recommendations", failed.GetProperty("part").GetString());
        Assert.Equal("timeout", failed.GetProperty("reason").GetString());
    }

    [Fact]
    public async Task A_required_part_that_fails_gives_the_documented_problem_naming_the_part()
    {
        await using var broken = await ControllableUpstream.StartAsync("broken");
        broken.Status = 500;
        // The part's upstream takes ten minutes: that the gateway answers at all (before the client's own timeout) shows
        // the part's 300-ms timeout cut it. No wall-clock bound, which a loaded machine could break.
        await using var slow = await ControllableUpstream.StartAsync("slow");
        slow.Delay = TimeSpan.FromMinutes(10);
        await _gateway.UpsertRouteAsync("status", "/r/status/{id}", null, ("Composition", Composition($$"""
            [{"name":"user","upstream":"users","path":"/users/{id}"},
             {"name":"billing","upstream":"{{broken.BaseAddress}}","path":"/billing/{id}"}]
            """)), ("Retries", """{"maxRetries":0}"""));
        await _gateway.UpsertRouteAsync("timeout", "/r/timeout/{id}", null, ("Composition", Composition($$"""
            [{"name":"user","upstream":"users","path":"/users/{id}"},
             {"name":"ledger","upstream":"{{slow.BaseAddress}}","path":"/ledger/{id}","timeoutMs":300}]
            """)));
        await _gateway.UpsertRouteAsync("dead", "/r/dead/{id}", null, ("Composition", Composition($$"""
            [{"name":"inventory","upstream":"{{Dead()}}","path":"/stock/{id}"}]
            """)));
        await _gateway.UpsertRouteAsync("chain", "/r/chain/{id}", null, ("Composition", Composition("""
            [{"name":"user","upstream":"users","path":"/users/missing","required":false},
             {"name":"orders","upstream":"echo","path":"/orders?customer={parts.user.body.id}","dependsOn":["user"]}]
            """)));
        await _gateway.ReloadAsync();

        var status = await Problem.AssertAsync(await _gateway.Client.GetAsync("/r/status/7"), HttpStatusCode.BadGateway, "composition_part_failed");
        Assert.Equal("billing", status.GetProperty("part").GetString());
        Assert.Equal("status", status.GetProperty("reason").GetString());
        Assert.Equal(500, status.GetProperty("partStatus").GetInt32());

        var timeout = await Problem.AssertAsync(await _gateway.Client.GetAsync("/r/timeout/7"), HttpStatusCode.GatewayTimeout, "composition_part_failed");
        Assert.Equal("ledger", timeout.GetProperty("part").GetString());
        Assert.Equal("timeout", timeout.GetProperty("reason").GetString());

        var dead = await Problem.AssertAsync(await _gateway.Client.GetAsync("/r/dead/7"), HttpStatusCode.BadGateway, "composition_part_failed");
        Assert.Equal("inventory", dead.GetProperty("part").GetString());
        Assert.Equal("unreachable", dead.GetProperty("reason").GetString());

        var chain = await Problem.AssertAsync(await _gateway.Client.GetAsync("/r/chain/7"), HttpStatusCode.BadGateway, "composition_part_failed");
        Assert.Equal("orders", chain.GetProperty("part").GetString());
        Assert.Equal("dependency_failed", chain.GetProperty("reason").GetString());
        Assert.Equal(0, _echo.RequestCount);
    }

    [Fact]
    public async Task A_part_whose_upstream_hangs_up_without_an_answer_failed_with_error_not_unreachable()
    {
        // Connected, the request read, the connection closed without a response: reachable, but it broke the exchange.
        await using var hangsUp = RawUpstream.Start(async (connection, token) => await connection.Reader.ReadHeadAsync(token));
        await _gateway.UpsertRouteAsync("hangs-up", "/r/hangs-up/{id}", null, ("Composition", Composition($$"""
            [{"name":"stock","upstream":"{{hangsUp.BaseAddress}}","path":"/stock/{id}"}]
            """)));
        await _gateway.ReloadAsync();

        var failed = await Problem.AssertAsync(await _gateway.Client.GetAsync("/r/hangs-up/7"), HttpStatusCode.BadGateway, "composition_part_failed");
        Assert.Equal("stock", failed.GetProperty("part").GetString());
        Assert.Equal("error", failed.GetProperty("reason").GetString());
        Assert.NotEmpty(hangsUp.Connections);
    }

    [Fact]
    public async Task A_part_answering_JSON_the_gateway_cannot_merge_is_read_as_text_and_deep_JSON_is_merged()
    {
        // What an upstream may send that parses but cannot be used as JSON: a repeated member, a lone surrogate escape.
        // Read as text like any labelled JSON that does not parse, never a 500; a 64-deep answer (the most a part's
        // JSON may nest) is merged one level down.
        var deep = new string('[', 64) + new string(']', 64);
        await using var odd = await TestUpstream.StartAsync("odd", app => app.Respond(async context =>
        {
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(context.Request.Path.Value switch
            {
                "/repeated" => """{"id":"a","id":"b"}""",
                "/surrogate" => """{"id":"a\ud800"}""",
                "/deep" => deep,
                _ => """{"ok":true}""",
            });
        }));
        await _gateway.UpsertRouteAsync("odd", "/odd/{kind}", null, ("Composition", Composition($$"""
            [{"name":"odd","upstream":"{{odd.BaseAddress}}","path":"/{kind}"},
             {"name":"next","upstream":"echo","path":"/next/{parts.odd.body.id}","dependsOn":["odd"],"required":false}]
            """)));
        await _gateway.UpsertRouteAsync("odd-template", "/odd-template/{kind}", null, ("Composition", Composition($$"""
            [{"name":"odd","upstream":"{{odd.BaseAddress}}","path":"/{kind}"}]
            """, """{"odd": {{ parts.odd.body | json }}}""")));
        await _gateway.ReloadAsync();

        foreach (var (kind, text) in new[] { ("repeated", """{"id":"a","id":"b"}"""), ("surrogate", """{"id":"a\ud800"}""") })
        {
            foreach (var route in new[] { "/odd/", "/odd-template/" })
            {
                using var response = await _gateway.Client.GetAsync(route + kind);
                var body = await response.Content.ReadAsStringAsync();
                Assert.True(response.StatusCode == HttpStatusCode.OK, route + kind + ": " + body);
                var json = JsonDocument.Parse(body).RootElement;
                Assert.Equal(text, json.GetProperty("odd").GetString());
                if (route == "/odd/")
                {
                    Assert.Equal("missing_value", json.GetProperty("_partial").GetProperty("failed")[0].GetProperty("reason").GetString());
                }
            }
        }

        using var deepResponse = await _gateway.Client.GetAsync("/odd/deep");
        var deepBody = await deepResponse.Content.ReadAsStringAsync();
        Assert.True(deepResponse.StatusCode == HttpStatusCode.OK, deepBody);
        Assert.StartsWith("{\"odd\":" + deep + ",\"_partial\":", deepBody, StringComparison.Ordinal);
        Assert.Equal(0, _echo.RequestCount);
    }

    [Fact]
    public async Task A_template_whose_output_repeats_a_member_gives_502_not_500()
    {
        // A text answer written into the template without "| json" can add members: the output is not JSON the gateway
        // can add _partial to (or that a client could read one way), so it is the documented template failure.
        await using var text = await TestUpstream.StartAsync("text", app => app.Respond(context => context.Response.WriteAsync("""1, "a": 2""")));
        await _gateway.UpsertRouteAsync("injected", "/injected", null, ("Composition", Composition($$"""
            [{"name":"p","upstream":"{{text.BaseAddress}}","path":"/text"},
             {"name":"ads","upstream":"users","path":"/users/missing","required":false}]
            """, """{"a": {{ parts.p.body }}}""")));
        await _gateway.ReloadAsync();

        await Problem.AssertAsync(await _gateway.Client.GetAsync("/injected"), HttpStatusCode.BadGateway, "response_transform_failed");
    }

    [Fact]
    public async Task A_part_is_balanced_away_from_a_dead_instance_and_an_open_breaker_is_honoured()
    {
        await using var live = await ControllableUpstream.StartAsync("live");
        await using var flaky = await ControllableUpstream.StartAsync("flaky");
        flaky.Status = 500;
        await _gateway.UpsertPoolAsync("mixed", [(Dead(), 1), (live.BaseAddress, 1)]);
        await _gateway.UpsertPoolAsync("flaky", [(flaky.BaseAddress, 1)], ("CircuitBreaker", """{"minimumThroughput":2,"failureRatio":0.5,"breakSeconds":60}"""));
        await _gateway.UpsertRouteAsync("mixed", "/mixed/{id}", null, ("Composition", Composition("""
            [{"name":"stock","upstream":"mixed","path":"/stock/{id}"},
             {"name":"extras","upstream":"flaky","path":"/extras/{id}","required":false}]
            """)), ("Retries", """{"maxRetries":1}"""));
        await _gateway.ReloadAsync();

        var reasons = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            using var response = await _gateway.Client.GetAsync($"/mixed/{i}");
            var body = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.True(response.StatusCode == HttpStatusCode.OK, body.ToString());
            Assert.Equal($"/stock/{i}", body.GetProperty("stock").GetProperty("path").GetString());
            reasons.Add(body.GetProperty("_partial").GetProperty("failed")[0].GetProperty("reason").GetString()!);
        }

        Assert.Equal(6, live.Requests);
        Assert.Equal(2, flaky.Requests);
        Assert.Equal(["status", "status", "no_instance", "no_instance", "no_instance", "no_instance"], reasons);
    }

    [Fact]
    public async Task Each_part_has_a_span_under_the_request_with_its_upstream_attempts_under_it()
    {
        var capture = new TelemetryCapture();
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString, services: capture.AddTo);
        await gateway.UpsertRouteAsync("traced", "/traced/{id}", null, ("Composition", Composition($$"""
            [{"name":"user","upstream":"{{_users.BaseAddress}}","path":"/users/{id}"},
             {"name":"feed","upstream":"{{_echo.BaseAddress}}","path":"/feed/{id}"},
             {"name":"gone","upstream":"{{_users.BaseAddress}}","path":"/users/missing","required":false}]
            """)));
        await gateway.ReloadAsync();

        using var response = await gateway.Client.GetAsync("/traced/7");
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var request = (await capture.WaitForSpansAsync(s => s.OperationName == "FuncGateway.Request" && TelemetryCapture.Tag(s, "funcgateway.route.id") == "traced")).Single();
        var parts = await capture.WaitForSpansAsync(s => s.OperationName == "FuncGateway.CompositionPart" && s.ParentSpanId == request.SpanId, 3);
        Assert.Equal(["feed", "gone", "user"], parts.Select(p => TelemetryCapture.Tag(p, "funcgateway.composition.part")).Order());
        var gone = parts.Single(p => TelemetryCapture.Tag(p, "funcgateway.composition.part") == "gone");
        Assert.Equal("status", TelemetryCapture.Tag(gone, "error.type"));
        Assert.Equal("3", TelemetryCapture.Tag(request, "funcgateway.upstream.attempts"));

        var feed = parts.Single(p => TelemetryCapture.Tag(p, "funcgateway.composition.part") == "feed");
        var attempt = (await capture.WaitForSpansAsync(s => s.OperationName == "FuncGateway.UpstreamAttempt" && s.ParentSpanId == feed.SpanId)).Single();
        Assert.Equal("200", TelemetryCapture.Tag(attempt, "http.response.status_code"));
        var traceparent = Assert.Single(new Echo(body.GetProperty("feed")).Header("traceparent"));
        Assert.StartsWith($"00-{request.TraceId.ToHexString()}-{attempt.SpanId.ToHexString()}-", traceparent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_part_path_value_of_dots_and_spaces_fails_the_part_as_a_bad_value()
    {
        // IIS and Windows servers drop a segment's trailing dots and spaces: "..." and ".. " would reach them as "..".
        await _gateway.UpsertRouteAsync("find", "/find", null, ("Composition", Composition("""[{"name":"hits","upstream":"echo","path":"/find/{query.q}"}]""")));
        await _gateway.ReloadAsync();

        foreach (var value in new[] { "...", ".. ", ". ", "...." })
        {
            using var response = await _gateway.Client.GetAsync("/find?q=" + Uri.EscapeDataString(value));
            var problem = await Problem.AssertAsync(response, HttpStatusCode.BadGateway, "composition_part_failed");
            Assert.Equal("bad_value", problem.GetProperty("reason").GetString());
        }

        using var ok = await _gateway.Client.GetAsync("/find?q=" + Uri.EscapeDataString("a..b"));
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal(1, _echo.RequestCount);
    }

    [Fact]
    public async Task A_composed_response_made_for_one_caller_is_private_so_shared_caches_never_keep_it()
    {
        await _gateway.UpsertRouteAsync("mine", "/mine/{id}", null, ("Auth", "staff"), ("Composition", Composition("""[{"name":"user","upstream":"users","path":"/users/{id}"}]""")));
        await _gateway.UpsertRouteAsync("open", "/open/{id}", null, ("Composition", Composition("""[{"name":"prefs","upstream":"echo","path":"/prefs/{id}"}]""")));
        await _gateway.ReloadAsync();

        using var mine = new HttpRequestMessage(HttpMethod.Get, "/mine/7");
        mine.Headers.Authorization = Alice();
        using var authenticated = await _gateway.Client.SendAsync(mine);
        Assert.Equal(HttpStatusCode.OK, authenticated.StatusCode);
        Assert.Equal("private", authenticated.Headers.CacheControl?.ToString());

        // An anonymous route's parts receive the client's cookie and Authorization: what they answer is that client's.
        using var withCookie = new HttpRequestMessage(HttpMethod.Get, "/open/7");
        withCookie.Headers.Add("Cookie", "session=abc");
        using var cookie = await _gateway.Client.SendAsync(withCookie);
        var body = await cookie.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(["session=abc"], new Echo(body.GetProperty("prefs")).Header("Cookie"));
        Assert.Equal("private", cookie.Headers.CacheControl?.ToString());

        using var withToken = new HttpRequestMessage(HttpMethod.Get, "/open/7");
        withToken.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "for-the-upstream");
        using var token = await _gateway.Client.SendAsync(withToken);
        Assert.Equal("private", token.Headers.CacheControl?.ToString());

        using var anonymous = await _gateway.Client.GetAsync("/open/7");
        Assert.Equal(HttpStatusCode.OK, anonymous.StatusCode);
        Assert.Null(anonymous.Headers.CacheControl);
    }

    [Fact]
    public async Task The_gateways_cache_leaves_a_composition_route_alone_neither_storing_nor_claiming_a_miss()
    {
        await _gateway.UpsertRouteAsync("cached-composed", "/cached-composed/{id}", null, ("Cache", """{"ttlSeconds":60}"""),
            ("Composition", Composition("""[{"name":"prefs","upstream":"echo","path":"/prefs/{id}"}]""")));
        await _gateway.ReloadAsync();

        using var first = await _gateway.Client.GetAsync("/cached-composed/7");
        using var second = await _gateway.Client.GetAsync("/cached-composed/7");

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (first.StatusCode, second.StatusCode));
        Assert.False(first.Headers.Contains("X-Cache"));
        Assert.False(second.Headers.Contains("X-Cache"));
        Assert.Equal(2, _echo.RequestCount);
    }

    [Fact]
    public async Task The_parts_answers_and_the_composed_body_together_are_bounded_per_request()
    {
        await using var big = await TestUpstream.StartAsync("big", app => app.Respond(context =>
        {
            // /json/{n}: a JSON string of n letters; /angles/{n}: n '<' as text, each written as six bytes (\u003C) in JSON.
            var parts = context.Request.Path.Value!.Split('/');
            var n = int.Parse(parts[2], System.Globalization.CultureInfo.InvariantCulture);
            context.Response.ContentType = parts[1] == "json" ? "application/json" : "text/plain";
            return context.Response.WriteAsync(parts[1] == "json" ? "\"" + new string('a', n - 2) + "\"" : new string('<', n));
        }));
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString, new Dictionary<string, string?>
        {
            ["FuncGateway:Forwarding:MaxComposedResponseBytes"] = "4096",
        });
        await gateway.UpsertRouteAsync("three", "/three", null, ("Composition", Composition($$"""
            [{"name":"a","upstream":"{{big.BaseAddress}}","path":"/json/1500"},
             {"name":"b","upstream":"{{big.BaseAddress}}","path":"/json/1500","required":false},
             {"name":"c","upstream":"{{big.BaseAddress}}","path":"/json/1500","required":false}]
            """)));
        await gateway.UpsertRouteAsync("two", "/two", null, ("Composition", Composition($$"""
            [{"name":"a","upstream":"{{big.BaseAddress}}","path":"/json/1500"},{"name":"b","upstream":"{{big.BaseAddress}}","path":"/json/1500"}]
            """)));
        await gateway.UpsertRouteAsync("escaped", "/escaped", null, ("Composition", Composition($$"""
            [{"name":"a","upstream":"{{big.BaseAddress}}","path":"/angles/1000"}]
            """)));
        await gateway.ReloadAsync();

        // Each answer is far below MaxBufferedResponseBytes; together they are not below the request's bound.
        using var three = await gateway.Client.GetAsync("/three");
        var problem = await Problem.AssertAsync(three, HttpStatusCode.BadGateway, "composition_too_large");
        Assert.Equal(4096, problem.GetProperty("maxBytes").GetInt64());

        // 1,000 bytes of text become a 6,000-byte JSON string: the composed body is bounded too.
        using var escaped = await gateway.Client.GetAsync("/escaped");
        await Problem.AssertAsync(escaped, HttpStatusCode.BadGateway, "composition_too_large");

        using var two = await gateway.Client.GetAsync("/two");
        Assert.Equal(HttpStatusCode.OK, two.StatusCode);
        Assert.Equal(3000 + """{"a":,"b":}""".Length, (await two.Content.ReadAsByteArrayAsync()).Length);
    }

    [Fact]
    public async Task Invalid_compositions_are_quarantined_with_their_reasons()
    {
        await _gateway.UpsertRouteAsync("unknown-pool", "/c/a/{id}", null, ("Composition", Composition("""[{"name":"a","upstream":"nope","path":"/a/{id}"}]""")));
        await _gateway.UpsertRouteAsync("cycle", "/c/b", null, ("Composition", Composition("""
            [{"name":"a","upstream":"echo","path":"/a","dependsOn":["b"]},{"name":"b","upstream":"echo","path":"/b","dependsOn":["a"]}]
            """)));
        await _gateway.UpsertRouteAsync("undeclared", "/c/c", null, ("Composition", Composition("""
            [{"name":"a","upstream":"echo","path":"/a"},{"name":"b","upstream":"echo","path":"/b/{parts.a.body.id}"}]
            """)));
        await _gateway.UpsertRouteAsync("no-param", "/c/d", null, ("Composition", Composition("""[{"name":"a","upstream":"echo","path":"/a/{id}"}]""")));
        await _gateway.UpsertRouteAsync("bad-template", "/c/e", null, ("Composition", Composition("""[{"name":"a","upstream":"echo","path":"/a"}]""", "{{ parts.a.body ")));
        await _gateway.UpsertRouteAsync("with-upstream", "/c/f", "echo", ("Composition", Composition("""[{"name":"a","upstream":"echo","path":"/a"}]""")));
        await _gateway.UpsertRouteAsync("duplicate", "/c/g", null, ("Composition", Composition("""[{"name":"a","upstream":"echo","path":"/a"},{"name":"A","upstream":"echo","path":"/b"}]""")));
        await _gateway.UpsertRouteAsync("reserved", "/c/h", null, ("Composition", Composition("""[{"name":"_Partial","upstream":"echo","path":"/a"}]""")));
        await _gateway.ReloadAsync();

        var rejected = await _gateway.RejectedReasonsAsync();
        Assert.Contains("Composition part 'a': Upstream 'nope' is neither a known upstream pool nor an absolute http(s) URL.", rejected["unknown-pool"], StringComparison.Ordinal);
        Assert.Contains("Composition: the dependsOn of parts a, b form a cycle.", rejected["cycle"], StringComparison.Ordinal);
        Assert.Contains("Composition part 'b': path reads part 'a', which must be listed in its dependsOn.", rejected["undeclared"], StringComparison.Ordinal);
        Assert.Contains("Composition part 'a': path uses '{id}', which is not a parameter of the route's Path.", rejected["no-param"], StringComparison.Ordinal);
        Assert.Contains("Composition template is not valid Liquid", rejected["bad-template"], StringComparison.Ordinal);
        Assert.Contains("Composition and Upstream are exclusive", rejected["with-upstream"], StringComparison.Ordinal);
        Assert.Contains("Composition: part name 'A' is used twice", rejected["duplicate"], StringComparison.Ordinal);
        Assert.Contains("Composition: part name '_Partial' is reserved for the list of failed optional parts.", rejected["reserved"], StringComparison.Ordinal);
    }
}
