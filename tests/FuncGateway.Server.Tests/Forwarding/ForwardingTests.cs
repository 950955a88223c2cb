using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.AspNetCore.Http;
using FuncGateway.Server.Tests.Infrastructure;
using FuncGateway.Testing;

namespace FuncGateway.Server.Tests.Forwarding;

[Collection("Azurite")]
public sealed class ForwardingTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private TestUpstream _echo = null!;
    private GatewayHost _gateway = null!;

    public async Task InitializeAsync()
    {
        _echo = await TestUpstream.StartAsync("echo-a");
        // The gateway vouches for a host (X-Forwarded-Host) only when it is one of its public hosts, as the quick start configures.
        _gateway = await GatewayHost.StartAsync(azurite.ConnectionString, new Dictionary<string, string?>
        {
            ["FuncGateway:Forwarding:PublicHosts"] = "127.0.0.1,localhost",
        });
        await _gateway.UpsertUpstreamAsync("echo", _echo.BaseAddress);
        await _gateway.UpsertRouteAsync("api", "/api/{**rest}", "echo");
        await _gateway.UpsertRouteAsync("api-admin", "/api/admin/{**rest}", "echo", ("DenyIps", "127.0.0.1"));
        await _gateway.UpsertRouteAsync("orders", "/shop/orders/{id:int}", "echo", ("Methods", "GET,PUT,DELETE"), ("UpstreamPath", "/v2/orders/{id}"));
        await _gateway.UpsertRouteAsync("strip", "/strip/me/{**rest}", "echo", ("StripPrefix", "/strip/me"));
        await _gateway.ReloadAsync();
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _echo.DisposeAsync();
    }

    [Fact]
    public async Task A_semicolon_cannot_hide_from_the_route_match_a_query_parameter_the_upstream_reads()
    {
        // Python before 3.9.2 and some Java stacks read "x=1;tier=gold" as x=1 and tier=gold; the gateway (like ASP.NET
        // Core) reads one x. The basic route was chosen because tier is basic: its upstream must not find a gold.
        await _gateway.UpsertRouteAsync("tier-gold", "/tiers/{**rest}", "echo", ("Query", """[{"name":"tier","values":["gold"]}]"""), ("DenyIps", "127.0.0.1"));
        await _gateway.UpsertRouteAsync("tier-basic", "/tiers/{**rest}", "echo", ("Query", """[{"name":"tier","values":["basic"]}]"""));
        await _gateway.ReloadAsync();

        async Task<string> ForwardedQueryAsync(string query) => (await Echo.ReadAsync(await _gateway.Client.GetAsync("/tiers/x" + query))).Query;

        Assert.Equal("?x=1%3Btier=gold&tier=basic", await ForwardedQueryAsync("?x=1;tier=gold&tier=basic"));
        Assert.Equal("?tier=basic&x=1%3Btier%5B%5D=gold", await ForwardedQueryAsync("?tier=basic&x=1;tier%5B%5D=gold"));
        // A semicolon that hides no condition's name passes byte for byte.
        Assert.Equal("?filter=a;b=c&tier=basic", await ForwardedQueryAsync("?filter=a;b=c&tier=basic"));
    }

    [Fact]
    public async Task A_semicolon_cannot_hide_a_choosing_parameter_on_a_fallback_route_beside_the_one_it_chooses()
    {
        // Gold callers are refused here (DenyIps); the fallback takes everyone else. Its upstream must not read the gold
        // tier that an old parser finds after the ';' when the fallback was chosen for having no tier.
        await _gateway.UpsertRouteAsync("plan-gold", "/plans/{**rest}", "echo", ("Query", """[{"name":"tier","values":["gold"]}]"""), ("DenyIps", "127.0.0.1"));
        await _gateway.UpsertRouteAsync("plan-any", "/plans/{**rest}", "echo");
        await _gateway.ReloadAsync();

        var echo = await Echo.ReadAsync(await _gateway.Client.GetAsync("/plans/x?x=1;tier=gold"));

        Assert.Equal("?x=1%3Btier=gold", echo.Query);
    }

    [Fact]
    public async Task An_UpstreamPath_ending_in_a_slash_sends_the_slash_once()
    {
        // A directory index, a framework that redirects '/docs' to '/docs/', a migrated Proxies backendUri: the trailing
        // slash written in UpstreamPath is part of the path the upstream must see.
        await _gateway.UpsertRouteAsync("docs", "/docs", "echo", ("UpstreamPath", "/static/docs/"));
        await _gateway.UpsertRouteAsync("docs-files", "/docs-files/{**rest}", "echo", ("UpstreamPath", "/static/{rest}/"));
        await _gateway.ReloadAsync();

        Assert.Equal("/static/docs/", (await Echo.ReadAsync(await _gateway.Client.GetAsync("/docs"))).Path);
        Assert.Equal("/static/a/b/", (await Echo.ReadAsync(await _gateway.Client.GetAsync("/docs-files/a/b"))).Path);
        Assert.Equal("/static/a/b/", (await Echo.ReadAsync(await _gateway.Client.GetAsync("/docs-files/a/b/"))).Path);
        // Without one, as before.
        Assert.Equal("/v2/orders/7", (await Echo.ReadAsync(await _gateway.Client.GetAsync("/shop/orders/7"))).Path);
    }

    [Theory]
    [InlineData("GET")]
    [InlineData("POST")]
    [InlineData("PUT")]
    [InlineData("DELETE")]
    [InlineData("PATCH")]
    public async Task Method_path_query_headers_and_body_reach_the_upstream_unchanged(string method)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), "/api/items/42?b=2&a=%20x&a=y");
        request.Headers.Add("X-Custom", ["one", "two"]);
        request.Headers.Accept.ParseAdd("application/json");
        var body = $"{{\"method\":\"{method}\",\"text\":\"héllo\"}}";
        if (method != "GET")
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }

        using var response = await _gateway.Client.SendAsync(request);
        var echo = await Echo.ReadAsync(response);

        Assert.Equal(method, echo.Method);
        Assert.Equal("/api/items/42", echo.Path);
        Assert.Equal("?b=2&a=%20x&a=y", echo.Query);
        Assert.Equal("one, two", string.Join(", ", echo.Header("X-Custom")));
        Assert.Equal("application/json", echo.Header("Accept").Single());
        if (method != "GET")
        {
            Assert.Equal(body, echo.Body);
            Assert.Equal("application/json; charset=utf-8", echo.Header("Content-Type").Single());
        }
    }

    [Fact]
    public async Task Upstream_path_template_reuses_route_parameters_and_keeps_the_query()
    {
        using var response = await _gateway.Client.GetAsync("/shop/orders/7?expand=lines");
        var echo = await Echo.ReadAsync(response);

        Assert.Equal("/v2/orders/7", echo.Path);
        Assert.Equal("?expand=lines", echo.Query);
    }

    [Fact]
    public async Task Strip_prefix_removes_the_leading_segments()
    {
        using var response = await _gateway.Client.GetAsync("/strip/me/deeper/path%20with%20space");
        var echo = await Echo.ReadAsync(response);

        Assert.Equal("/deeper/path%20with%20space", echo.Path);
    }

    [Theory]
    [InlineData("/api/npm/@types%2Fcors", "/api/npm/@types%2Fcors")] // a bare YARP forwarder sends @types%252Fcors
    [InlineData("/api/a%2fb%2Fc?x=%2F", "/api/a%2fb%2Fc")]
    [InlineData("/api/a%252Fb", "/api/a%252Fb")] // an encoded '%' stays one: never turned into an encoded slash
    [InlineData("/strip/me/scope%2Fname", "/scope%2Fname")]
    public async Task Encoded_slashes_reach_the_upstream_as_the_client_sent_them(string sent, string expected)
    {
        using var response = await _gateway.Client.GetAsync(sent);
        var echo = await Echo.ReadAsync(response);

        Assert.Equal(expected, echo.Path);
    }

    [Fact]
    public async Task The_query_reaches_the_upstream_byte_for_byte()
    {
        const string Query = "?a=%7e&sig=%41%42&b=%zz&c={x}|^`&d=\\b&e=%&f=%2B+%20";
        var address = new Uri(_gateway.Client.BaseAddress!.GetLeftPart(UriPartial.Authority) + "/api/signed" + Query,
            new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true });

        using var response = await _gateway.Client.GetAsync(address);
        var echo = await Echo.ReadAsync(response);

        Assert.Equal(Query, echo.Query);
    }

    [Theory]
    [InlineData("/api/files/..%2F..%2Fadmin")]
    [InlineData("/api/files/..%5Cadmin")]
    [InlineData("/strip/me/.%2Fx")]
    public async Task A_dot_segment_behind_an_encoded_slash_is_refused_before_any_upstream(string sent)
    {
        var before = _echo.RequestCount;

        using var response = await _gateway.Client.GetAsync(sent);

        await Problem.AssertAsync(response, HttpStatusCode.BadRequest, "invalid_path");
        Assert.Equal(before, _echo.RequestCount);
    }

    [Theory]
    [InlineData("/api/files/.../admin")]
    [InlineData("/api/files/..%20/admin")]
    [InlineData("/api/files/%2E%2E%2E/admin")]
    [InlineData("/api/files/.%20.")]
    [InlineData("/api/files/....")]
    [InlineData("/strip/me/..%20")]
    [InlineData("/shop/orders/1/../../.../x")]
    public async Task A_segment_of_dots_and_spaces_that_windows_servers_read_as_a_dot_segment_is_refused_before_any_upstream(string sent)
    {
        // Kestrel removes "." and ".." segments, but "..." and ".. " are plain names to it: IIS and Windows drop a
        // segment's trailing dots and spaces and read them as "..", a step out of the route's path.
        var before = _echo.RequestCount;
        var address = new Uri(_gateway.Client.BaseAddress!.GetLeftPart(UriPartial.Authority) + sent,
            new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true });

        using var response = await _gateway.Client.GetAsync(address);

        await Problem.AssertAsync(response, HttpStatusCode.BadRequest, "invalid_path");
        Assert.Equal(before, _echo.RequestCount);
    }

    [Theory]
    [InlineData("/api/files/a..b/v1.2./x.%20y", "/api/files/a..b/v1.2./x.%20y")]
    [InlineData("/api/files/%20/x", "/api/files/%20/x")]
    public async Task Dots_and_spaces_inside_a_name_still_reach_the_upstream(string sent, string expected)
    {
        using var response = await _gateway.Client.GetAsync(new Uri(_gateway.Client.BaseAddress!.GetLeftPart(UriPartial.Authority) + sent,
            new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true }));
        var echo = await Echo.ReadAsync(response);

        Assert.Equal(expected, echo.Path);
    }

    [Theory]
    [InlineData("/api/admin%2Fusers")]
    [InlineData("/api/admin%5Cusers")]
    [InlineData("/api//admin/users")]
    [InlineData("/api/admin;a=b/users")]
    [InlineData("/api/admin./users")]
    [InlineData("/api/admin%20/users")]
    [InlineData("/api/admin.%20./users")]
    public async Task A_path_that_reads_as_another_routes_on_a_lenient_server_is_refused(string sent)
    {
        var before = _echo.RequestCount;

        using var plain = await _gateway.Client.GetAsync("/api/admin/users");
        using var response = await _gateway.Client.GetAsync(sent);

        await Problem.AssertAsync(plain, HttpStatusCode.Forbidden, "ip_denied");
        await Problem.AssertAsync(response, HttpStatusCode.BadRequest, "invalid_path");
        Assert.Equal(before, _echo.RequestCount);
    }

    [Fact]
    public async Task A_regex_constraint_a_client_makes_backtrack_answers_at_once_as_a_segment_that_does_not_match()
    {
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString);
        await gateway.UpsertRouteAsync("codes", "/codes/{code:regex(^(a+)+$)}", _echo.BaseAddress.ToString());
        await gateway.ReloadAsync();

        var started = System.Diagnostics.Stopwatch.StartNew();
        using var response = await gateway.Client.GetAsync("/codes/" + new string('a', 40) + "!");

        await Problem.AssertAsync(response, HttpStatusCode.NotFound, "route_not_found");
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(3), $"took {started.Elapsed}");
        using var matching = await gateway.Client.GetAsync("/codes/aaaa");
        Assert.Equal("/codes/aaaa", (await Echo.ReadAsync(matching)).Path);
    }

    [Fact]
    public async Task Unmatched_path_is_a_404_problem()
    {
        using var response = await _gateway.Client.GetAsync("/nowhere");

        await Problem.AssertAsync(response, HttpStatusCode.NotFound, "route_not_found");
    }

    [Fact]
    public async Task Wrong_method_is_a_405_problem_with_allow()
    {
        using var response = await _gateway.Client.PostAsync("/shop/orders/7", new StringContent("x"));

        await Problem.AssertAsync(response, HttpStatusCode.MethodNotAllowed, "method_not_allowed");
        Assert.Equal(["DELETE", "GET", "HEAD", "PUT"], response.Content.Headers.Allow.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Constraint_mismatch_is_not_found_rather_than_a_wrong_route()
    {
        using var response = await _gateway.Client.GetAsync("/shop/orders/seven");

        await Problem.AssertAsync(response, HttpStatusCode.NotFound, "route_not_found");
    }

    [Fact]
    public async Task Upstream_errors_pass_through_untouched()
    {
        await using var failing = await TestUpstream.StartAsync("failing", app => app.Respond(async context =>
        {
            context.Response.StatusCode = 418;
            context.Response.ContentType = "text/plain";
            context.Response.Headers["X-Upstream"] = "yes";
            await context.Response.WriteAsync("I am a teapot, not a problem document");
        }));
        await _gateway.UpsertRouteAsync("teapot", "/teapot", failing.BaseAddress.ToString());
        await _gateway.ReloadAsync();

        using var response = await _gateway.Client.GetAsync("/teapot");

        Assert.Equal((HttpStatusCode)418, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal("yes", response.Headers.GetValues("X-Upstream").Single());
        Assert.Equal("I am a teapot, not a problem document", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Dead_upstream_is_a_502_problem()
    {
        var deadPort = LoopbackPorts.GetRefusing();
        await _gateway.UpsertRouteAsync("dead", "/dead", $"http://127.0.0.1:{deadPort}");
        await _gateway.ReloadAsync();

        using var response = await _gateway.Client.GetAsync("/dead");

        await Problem.AssertAsync(response, HttpStatusCode.BadGateway, "upstream_unreachable");
    }

    [Fact]
    public async Task Slow_upstream_past_the_route_timeout_is_a_504_problem()
    {
        await using var slow = await TestUpstream.StartAsync("slow", app => app.Respond(async context =>
        {
            await Task.Delay(TimeSpan.FromSeconds(10), context.RequestAborted);
            await context.Response.WriteAsync("too late");
        }));
        await _gateway.UpsertRouteAsync("slow", "/slow", slow.BaseAddress.ToString(), [("TimeoutSeconds", 0.5)]);
        await _gateway.ReloadAsync();

        using var response = await _gateway.Client.GetAsync("/slow");

        await Problem.AssertAsync(response, HttpStatusCode.GatewayTimeout, "upstream_timeout");
    }

    [Fact]
    public async Task Client_supplied_forwarded_headers_never_survive_as_the_gateways_own()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/whoami");
        request.Headers.TryAddWithoutValidation("X-Forwarded-For", "6.6.6.6");
        request.Headers.TryAddWithoutValidation("X-Forwarded-Proto", "https");
        request.Headers.TryAddWithoutValidation("X-Forwarded-Host", "evil.example");
        request.Headers.TryAddWithoutValidation("Forwarded", "for=6.6.6.6;proto=https");
        request.Headers.TryAddWithoutValidation("X-Forwarded-Prefix", "/evil");

        using var response = await _gateway.Client.SendAsync(request);
        var echo = await Echo.ReadAsync(response);

        Assert.Equal(["127.0.0.1"], echo.Header("X-Forwarded-For"));
        Assert.Equal(["http"], echo.Header("X-Forwarded-Proto"));
        Assert.Equal([_gateway.Client.BaseAddress!.Authority], echo.Header("X-Forwarded-Host"));
        Assert.Empty(echo.Header("Forwarded"));
        Assert.Empty(echo.Header("X-Forwarded-Prefix"));
    }

    [Fact]
    public async Task Trusted_proxy_chain_yields_the_real_client_address()
    {
        await using var behindProxy = await GatewayHost.StartAsync(azurite.ConnectionString,
            new Dictionary<string, string?> { ["FuncGateway:ForwardedHeaders:TrustedProxies"] = "127.0.0.1" });
        await behindProxy.UpsertRouteAsync("api", "/api/{**rest}", _echo.BaseAddress.ToString());
        await behindProxy.ReloadAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/x");
        request.Headers.TryAddWithoutValidation("X-Forwarded-For", "6.6.6.6, 203.0.113.50:4711");
        request.Headers.TryAddWithoutValidation("X-Forwarded-Proto", "https");

        var echo = await Echo.ReadAsync(await behindProxy.Client.SendAsync(request));

        Assert.Equal(["203.0.113.50"], echo.Header("X-Forwarded-For"));
        Assert.Equal(["https"], echo.Header("X-Forwarded-Proto"));
    }

    [Fact]
    public async Task Host_header_is_the_upstreams_unless_the_route_preserves_it()
    {
        await _gateway.UpsertRouteAsync("keep-host", "/keep-host", "echo", ("PreserveHost", (object)true));
        await _gateway.ReloadAsync();

        var normal = await Echo.ReadAsync(await _gateway.Client.GetAsync("/api/host"));
        var preserved = await Echo.ReadAsync(await _gateway.Client.GetAsync("/keep-host"));

        Assert.Equal([_echo.BaseAddress.Authority], normal.Header("Host"));
        Assert.Equal([_gateway.Client.BaseAddress!.Authority], preserved.Header("Host"));
    }

    [Fact]
    public async Task Round_robin_spreads_requests_evenly_over_two_instances()
    {
        await using var second = await TestUpstream.StartAsync("echo-b");
        await _gateway.UpsertUpstreamAsync("pair", _echo.BaseAddress, second.BaseAddress);
        await _gateway.UpsertRouteAsync("pair", "/pair", "pair");
        await _gateway.ReloadAsync();

        var seen = new List<string>();
        for (var i = 0; i < 10; i++)
        {
            seen.Add((await Echo.ReadAsync(await _gateway.Client.GetAsync("/pair"))).Instance);
        }

        Assert.Equal(5, seen.Count(s => s == "echo-a"));
        Assert.Equal(5, seen.Count(s => s == "echo-b"));
        Assert.All(seen.Zip(seen.Skip(1)), pair => Assert.NotEqual(pair.First, pair.Second));
    }

    [Fact]
    public async Task Announced_oversized_body_is_refused_with_413_before_reaching_the_upstream()
    {
        await using var small = await GatewayHost.StartAsync(azurite.ConnectionString,
            new Dictionary<string, string?> { ["FuncGateway:Forwarding:MaxRequestBodySizeBytes"] = "1000" });
        await small.UpsertRouteAsync("api", "/api/{**rest}", _echo.BaseAddress.ToString());
        await small.ReloadAsync();
        var before = _echo.RequestCount;

        using var response = await small.Client.PostAsync("/api/upload", new ByteArrayContent(new byte[1001]));

        await Problem.AssertAsync(response, HttpStatusCode.RequestEntityTooLarge, "request_too_large");
        Assert.Equal(before, _echo.RequestCount);
    }

    [Fact]
    public async Task Chunked_body_past_the_limit_is_cut_with_413()
    {
        await using var small = await GatewayHost.StartAsync(azurite.ConnectionString,
            new Dictionary<string, string?> { ["FuncGateway:Forwarding:MaxRequestBodySizeBytes"] = "1000" });
        await small.UpsertRouteAsync("api", "/api/{**rest}", _echo.BaseAddress.ToString());
        await small.ReloadAsync();
        var content = new StreamContent(new MemoryStream(new byte[5000]));
        content.Headers.ContentLength = null;
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/upload") { Content = content };
        request.Headers.TransferEncodingChunked = true;

        using var response = await small.Client.SendAsync(request);

        await Problem.AssertAsync(response, HttpStatusCode.RequestEntityTooLarge, "request_too_large");
    }

    [Fact]
    public async Task Head_and_options_are_forwarded_like_any_method()
    {
        using var head = await _gateway.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/api/h"));
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);

        using var options = await _gateway.Client.SendAsync(new HttpRequestMessage(HttpMethod.Options, "/api/o"));
        Assert.Equal("OPTIONS", (await Echo.ReadAsync(options)).Method);
    }

    [Fact]
    public async Task Response_headers_and_content_type_come_back_from_the_upstream()
    {
        using var response = await _gateway.Client.GetAsync("/api/ct");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(new MediaTypeHeaderValue("application/json").MediaType, response.Content.Headers.ContentType!.MediaType);
    }
}
