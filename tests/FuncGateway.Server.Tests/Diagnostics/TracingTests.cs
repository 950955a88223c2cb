using System.Diagnostics;
using FuncGateway.Server.Tests.Infrastructure;
using FuncGateway.Server.Tests.Resilience;
using FuncGateway.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace FuncGateway.Server.Tests.Diagnostics;

/// <summary>Spans through real Kestrel requests, captured with OpenTelemetry's in-memory exporter.</summary>
[Collection("Azurite")]
public sealed class TracingTests(AzuriteFixture azurite)
{
    private const string ClientTraceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    private const string ClientParent = "00-" + ClientTraceId + "-00f067aa0ba902b7-01";

    [Fact]
    public async Task A_retried_request_shows_two_attempt_spans_and_the_upstream_continues_the_second()
    {
        var capture = new TelemetryCapture();
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString, services: capture.AddTo);
        await using var failing = await ControllableUpstream.StartAsync("failing");
        await using var healthy = await ControllableUpstream.StartAsync("healthy");
        failing.Status = 503;
        await gateway.UpsertPoolAsync("pair", [(failing.BaseAddress, 1), (healthy.BaseAddress, 1)]);
        await gateway.UpsertRouteAsync("pair", "/pair/{**rest}", "pair", ("Retries", """{"maxRetries":1,"backoffMilliseconds":1}"""));
        await gateway.ReloadAsync();

        // Round robin: one of two requests goes to the failing instance first and is retried on the other.
        var echoes = new List<Echo>();
        for (var i = 0; i < 2; i++)
        {
            using var response = await gateway.Client.GetAsync($"/pair/{i}");
            echoes.Add(await Echo.ReadAsync(response));
        }

        var retried = (await capture.WaitForSpansAsync(s => s.OperationName == "FuncGateway.Request" && TelemetryCapture.Tag(s, "funcgateway.upstream.attempts") == "2")).Single();
        Assert.Equal(ActivityKind.Server, retried.Kind);
        Assert.Equal("GET /pair/{**rest}", retried.DisplayName);
        Assert.Equal("/pair/{**rest}", TelemetryCapture.Tag(retried, "http.route"));
        Assert.Equal("200", TelemetryCapture.Tag(retried, "http.response.status_code"));
        Assert.Equal("pair", TelemetryCapture.Tag(retried, "funcgateway.pool"));

        var attempts = (await capture.WaitForSpansAsync(s => s.OperationName == "FuncGateway.UpstreamAttempt" && s.ParentSpanId == retried.SpanId, 2))
            .OrderBy(s => s.StartTimeUtc).ToList();
        Assert.Equal(2, attempts.Count);
        Assert.All(attempts, a => Assert.Equal(ActivityKind.Client, a.Kind));
        Assert.Equal(failing.BaseAddress.ToString().TrimEnd('/'), TelemetryCapture.Tag(attempts[0], "funcgateway.instance"));
        Assert.Equal("503", TelemetryCapture.Tag(attempts[0], "error.type"));
        Assert.Equal("held_back", TelemetryCapture.Tag(attempts[0], "funcgateway.decision"));
        Assert.Equal(healthy.BaseAddress.ToString().TrimEnd('/'), TelemetryCapture.Tag(attempts[1], "funcgateway.instance"));
        Assert.Equal("1", TelemetryCapture.Tag(attempts[1], "http.request.resend_count"));
        Assert.Equal("200", TelemetryCapture.Tag(attempts[1], "http.response.status_code"));

        // The upstream that answered was told the second attempt is its parent.
        var traceparents = echoes.SelectMany(e => e.Header("traceparent")).ToList();
        AssertParent(traceparents, retried.TraceId.ToHexString(), attempts[1].SpanId.ToHexString());

        // Route match and authentication are children of the request span too.
        Assert.Contains(capture.Spans(), s => s.OperationName == "FuncGateway.RouteMatch" && s.ParentSpanId == retried.SpanId);
        var auth = Assert.Single(capture.Spans(), s => s.OperationName == "FuncGateway.Authenticate" && s.ParentSpanId == retried.SpanId);
        Assert.Equal("anonymous", TelemetryCapture.Tag(auth, "funcgateway.decision"));

        // Steps the route does not use leave no span: it has no limits, validation, cache or concurrency limit.
        Assert.DoesNotContain(capture.Spans(), s => s.ParentSpanId == retried.SpanId
            && s.OperationName is "FuncGateway.RateLimit" or "FuncGateway.Validate" or "FuncGateway.CacheLookup" or "FuncGateway.Concurrency" or "FuncGateway.Step");
    }

    [Fact]
    public async Task Each_step_a_route_uses_has_its_own_named_span()
    {
        var capture = new TelemetryCapture();
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString, services: capture.AddTo);
        await using var upstream = await TestUpstream.StartAsync("echo");
        await gateway.UpsertRouteAsync("stepped", "/stepped/{**rest}", upstream.BaseAddress.ToString(),
            ("Cache", """{"ttlSeconds":60}"""), ("MaxConcurrency", 10), ("Validation", """{"query":{"page":{"type":"integer"}}}"""));
        await gateway.ReloadAsync();

        using (var response = await gateway.Client.GetAsync("/stepped/items?page=2"))
        {
            Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        }

        var request = (await capture.WaitForSpansAsync(s => s.OperationName == "FuncGateway.Request" && s.GetTagItem("funcgateway.route.id") is "stepped")).Single();
        var children = capture.Spans().Where(s => s.ParentSpanId == request.SpanId).Select(s => s.OperationName).ToList();
        Assert.Contains("FuncGateway.Validate", children);
        Assert.Contains("FuncGateway.CacheLookup", children);
        Assert.Contains("FuncGateway.Concurrency", children);
        Assert.DoesNotContain("FuncGateway.RateLimit", children);
        Assert.DoesNotContain("FuncGateway.Step", children);
    }

    [Fact]
    public async Task An_untrusted_clients_trace_is_linked_not_continued_and_its_baggage_stays_behind()
    {
        var capture = new TelemetryCapture();
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString, services: capture.AddTo);
        await using var upstream = await TestUpstream.StartAsync("echo");
        await gateway.UpsertRouteAsync("echo", "/echo/{**rest}", upstream.BaseAddress.ToString());
        await gateway.ReloadAsync();

        var echo = await SendWithTraceAsync(gateway);

        var span = (await capture.WaitForSpansAsync(s => s.OperationName == "FuncGateway.Request" && s.GetTagItem("funcgateway.route.id") is "echo")).Single();
        Assert.NotEqual(ClientTraceId, span.TraceId.ToHexString());
        Assert.Equal(default, span.ParentSpanId);
        var link = Assert.Single(span.Links);
        Assert.Equal(ClientTraceId, link.Context.TraceId.ToHexString());

        var sent = Assert.Single(echo.Header("traceparent"));
        Assert.StartsWith($"00-{span.TraceId.ToHexString()}-", sent, StringComparison.Ordinal);
        Assert.Empty(echo.Header("baggage"));
    }

    [Fact]
    public async Task With_the_gateways_sampling_an_unrecorded_request_has_no_span_and_its_upstream_still_continues_the_trace()
    {
        var capture = new TelemetryCapture();
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString, new Dictionary<string, string?>
        {
            ["FuncGateway:Telemetry:TrustClientTraceContext"] = "true",
        }, services: capture.WithGatewaySampling(0));
        await using var upstream = await TestUpstream.StartAsync("echo");
        await gateway.UpsertRouteAsync("echo", "/echo/{**rest}", upstream.BaseAddress.ToString());
        await gateway.ReloadAsync();

        // A new trace, not sampled at ratio 0: the upstream is told its trace (the request id) and that it is not sampled.
        using var response = await gateway.Client.GetAsync("/echo/new");
        var echo = await Echo.ReadAsync(response);
        var requestId = Assert.Single(response.Headers.GetValues("X-Request-Id"));
        Assert.Matches($"^00-{requestId}-[0-9a-f]{{16}}-00$", Assert.Single(echo.Header("traceparent")));

        // A trusted client's unsampled trace continues, unsampled, with its state, under a span id of the gateway's.
        using var unsampled = new HttpRequestMessage(HttpMethod.Get, "/echo/unsampled");
        unsampled.Headers.TryAddWithoutValidation("traceparent", $"00-{ClientTraceId}-00f067aa0ba902b7-00");
        unsampled.Headers.TryAddWithoutValidation("tracestate", "vendor=opaque");
        using var unsampledResponse = await gateway.Client.SendAsync(unsampled);
        var unsampledEcho = await Echo.ReadAsync(unsampledResponse);
        var sent = Assert.Single(unsampledEcho.Header("traceparent"));
        Assert.Matches($"^00-{ClientTraceId}-[0-9a-f]{{16}}-00$", sent);
        Assert.DoesNotContain("00f067aa0ba902b7", sent, StringComparison.Ordinal);
        Assert.Equal(["vendor=opaque"], unsampledEcho.Header("tracestate"));
        Assert.Equal(ClientTraceId, Assert.Single(unsampledResponse.Headers.GetValues("X-Request-Id")));

        // A trusted client's sampled trace is recorded (parent-based), and its spans are the only ones exported.
        var sampled = await SendWithTraceAsync(gateway);
        var span = (await capture.WaitForSpansAsync(s => s.OperationName == "FuncGateway.Request")).Single();
        Assert.Equal(ClientTraceId, span.TraceId.ToHexString());
        var attempt = (await capture.WaitForSpansAsync(s => s.OperationName == "FuncGateway.UpstreamAttempt" && s.ParentSpanId == span.SpanId)).Single();
        AssertParent(sampled.Header("traceparent"), ClientTraceId, attempt.SpanId.ToHexString());
        Assert.All(capture.Spans(), s => Assert.Equal(ClientTraceId, s.TraceId.ToHexString()));
    }

    [Fact]
    public async Task A_recorded_new_trace_under_the_gateways_sampling_is_a_root_span_named_by_the_request_id()
    {
        var capture = new TelemetryCapture();
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString, services: capture.WithGatewaySampling(1));
        await using var upstream = await TestUpstream.StartAsync("echo");
        await gateway.UpsertRouteAsync("echo", "/echo/{**rest}", upstream.BaseAddress.ToString());
        await gateway.ReloadAsync();

        using var response = await gateway.Client.GetAsync("/echo/root");
        var echo = await Echo.ReadAsync(response);

        var requestId = Assert.Single(response.Headers.GetValues("X-Request-Id"));
        var span = (await capture.WaitForSpansAsync(s => s.OperationName == "FuncGateway.Request" && s.GetTagItem("funcgateway.route.id") is "echo")).Single();
        Assert.Equal(requestId, span.TraceId.ToHexString());
        Assert.Equal(default, span.ParentSpanId);
        Assert.True(span.Recorded);
        var attempt = (await capture.WaitForSpansAsync(s => s.OperationName == "FuncGateway.UpstreamAttempt" && s.ParentSpanId == span.SpanId)).Single();
        AssertParent(echo.Header("traceparent"), requestId, attempt.SpanId.ToHexString());
    }

    [Fact]
    public async Task A_trusted_trace_is_continued_with_its_state_and_baggage_is_forwarded_where_configured()
    {
        var capture = new TelemetryCapture();
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString, new Dictionary<string, string?>
        {
            ["FuncGateway:Telemetry:TrustClientTraceContext"] = "true",
            ["FuncGateway:Telemetry:ForwardBaggage"] = "true",
        }, services: capture.AddTo);
        await using var upstream = await TestUpstream.StartAsync("echo");
        await gateway.UpsertRouteAsync("echo", "/echo/{**rest}", upstream.BaseAddress.ToString());
        await gateway.ReloadAsync();

        var echo = await SendWithTraceAsync(gateway);

        var span = (await capture.WaitForSpansAsync(s => s.OperationName == "FuncGateway.Request" && s.GetTagItem("funcgateway.route.id") is "echo")).Single();
        Assert.Equal(ClientTraceId, span.TraceId.ToHexString());
        Assert.Equal("00f067aa0ba902b7", span.ParentSpanId.ToHexString());
        var attempt = (await capture.WaitForSpansAsync(s => s.OperationName == "FuncGateway.UpstreamAttempt" && s.ParentSpanId == span.SpanId)).Single();
        AssertParent(echo.Header("traceparent"), ClientTraceId, attempt.SpanId.ToHexString());
        Assert.Single(echo.Header("traceparent"));
        Assert.Equal(["vendor=opaque"], echo.Header("tracestate"));
        Assert.Equal(["tenant=contoso"], echo.Header("baggage"));
    }

    [Fact]
    public async Task Response_body_transforms_run_in_a_span_of_their_own_under_the_attempt()
    {
        var capture = new TelemetryCapture();
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString, services: capture.AddTo);
        await using var upstream = await TestUpstream.StartAsync("json", app => app.Run(static context =>
        {
            context.Response.ContentType = "application/json";
            return context.Response.WriteAsync("""{"id":7,"internal":"secret"}""");
        }));
        await gateway.UpsertRouteAsync("trimmed", "/trimmed", upstream.BaseAddress.ToString(), ("Transforms", """[{"ResponseBodyRemove":"/internal"}]"""));
        await gateway.UpsertRouteAsync("plain", "/plain", upstream.BaseAddress.ToString());
        await gateway.ReloadAsync();

        Assert.Equal("""{"id":7}""", await gateway.Client.GetStringAsync("/trimmed"));
        Assert.Equal("""{"id":7,"internal":"secret"}""", await gateway.Client.GetStringAsync("/plain"));

        var request = (await capture.WaitForSpansAsync(s => s.OperationName == "FuncGateway.Request" && s.GetTagItem("funcgateway.route.id") is "trimmed")).Single();
        var attempt = capture.Spans().Single(s => s.OperationName == "FuncGateway.UpstreamAttempt" && s.ParentSpanId == request.SpanId);
        var body = capture.Spans().Single(s => s.OperationName == "FuncGateway.ResponseBodyTransform" && s.ParentSpanId == attempt.SpanId);
        Assert.Equal("trimmed", TelemetryCapture.Tag(body, "funcgateway.route.id"));
        Assert.Equal("changed", TelemetryCapture.Tag(body, "funcgateway.decision"));
        Assert.Equal("28", TelemetryCapture.Tag(body, "funcgateway.body.bytes_in"));
        Assert.Equal("8", TelemetryCapture.Tag(body, "funcgateway.body.bytes_out"));

        // A route without body transforms streams its body: no such span.
        var plain = (await capture.WaitForSpansAsync(s => s.OperationName == "FuncGateway.Request" && s.GetTagItem("funcgateway.route.id") is "plain")).Single();
        Assert.DoesNotContain(capture.Spans(), s => s.OperationName == "FuncGateway.ResponseBodyTransform" && s.TraceId == plain.TraceId);
    }

    [Fact]
    public async Task A_method_the_client_makes_up_never_becomes_a_span_name()
    {
        var capture = new TelemetryCapture();
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString, services: capture.AddTo);
        await using var upstream = await TestUpstream.StartAsync("echo");
        await gateway.UpsertRouteAsync("any", "/any/{**rest}", upstream.BaseAddress.ToString());
        await gateway.ReloadAsync();

        // A route without Methods takes any method; every distinct method would otherwise be a span name of its own.
        using (var matched = await gateway.Client.SendAsync(new HttpRequestMessage(new HttpMethod("FOO123"), "/any/1")))
        {
            Assert.Equal(System.Net.HttpStatusCode.OK, matched.StatusCode);
        }

        using (var unmatched = await gateway.Client.SendAsync(new HttpRequestMessage(new HttpMethod("BAR456"), "/nowhere")))
        {
            Assert.Equal(System.Net.HttpStatusCode.NotFound, unmatched.StatusCode);
        }

        var request = (await capture.WaitForSpansAsync(s => s.OperationName == "FuncGateway.Request" && TelemetryCapture.Tag(s, "url.path") == "/any/1")).Single();
        Assert.Equal("HTTP /any/{**rest}", request.DisplayName);
        Assert.Equal("_OTHER", TelemetryCapture.Tag(request, "http.request.method"));
        var attempt = (await capture.WaitForSpansAsync(s => s.OperationName == "FuncGateway.UpstreamAttempt" && s.ParentSpanId == request.SpanId)).Single();
        Assert.Equal("HTTP", attempt.DisplayName);
        var notFound = (await capture.WaitForSpansAsync(s => s.OperationName == "FuncGateway.Request" && TelemetryCapture.Tag(s, "url.path") == "/nowhere")).Single();
        Assert.Equal("HTTP", notFound.DisplayName);
        Assert.DoesNotContain(capture.Spans(), s => s.DisplayName.Contains("FOO123", StringComparison.Ordinal) || s.DisplayName.Contains("BAR456", StringComparison.Ordinal));
    }

    /// <summary>One of <paramref name="traceparents"/> names that trace and parent span, sampled (flags may carry the W3C random bit too).</summary>
    private static void AssertParent(IEnumerable<string> traceparents, string traceId, string spanId)
    {
        var prefix = $"00-{traceId}-{spanId}-";
        var match = traceparents.FirstOrDefault(t => t.StartsWith(prefix, StringComparison.Ordinal));
        Assert.True(match is not null, $"{prefix}.. not among {string.Join(", ", traceparents)}");
        Assert.Equal(1, Convert.ToInt32(match[prefix.Length..], 16) & 1);
    }

    [Fact]
    public async Task A_trusted_clients_tracestate_is_passed_on_within_the_w3c_limits()
    {
        var capture = new TelemetryCapture();
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString, new Dictionary<string, string?>
        {
            ["FuncGateway:Telemetry:TrustClientTraceContext"] = "true",
        }, services: capture.AddTo);
        await using var upstream = await TestUpstream.StartAsync("echo");
        await gateway.UpsertRouteAsync("echo", "/echo/{**rest}", upstream.BaseAddress.ToString());
        await gateway.ReloadAsync();
        var big = "big=" + new string('b', 200);
        var members = Enumerable.Range(1, 20).Select(static i => $"v{i:D2}=" + new string('x', 20)).ToList();

        // 201 + 20 × 24 characters and commas: over 512. The member over 128 characters goes first, then from the right.
        var cut = await SendTraceStateAsync(gateway, [string.Join(',', members.Take(3).Append(big).Concat(members.Skip(3)))]);
        // Two fields are one list; 33 members is not a valid list, nor is a key twice or a key off the grammar.
        var combined = await SendTraceStateAsync(gateway, ["a=1", "b=2"]);
        var tooMany = await SendTraceStateAsync(gateway, [string.Join(',', Enumerable.Range(1, 33).Select(static i => $"k{i}=v"))]);
        var duplicate = await SendTraceStateAsync(gateway, ["a=1,b=2,a=3"]);
        var badKey = await SendTraceStateAsync(gateway, ["Vendor=1"]);
        var thirtyTwo = string.Join(',', Enumerable.Range(1, 32).Select(static i => $"k{i}=v"));
        var kept = await SendTraceStateAsync(gateway, [thirtyTwo]);

        Assert.Equal([string.Join(',', members.Take(20))], cut);
        Assert.Equal(["a=1,b=2"], combined);
        Assert.Empty(tooMany);
        Assert.Empty(duplicate);
        Assert.Empty(badKey);
        Assert.Equal([thirtyTwo], kept);
    }

    [Fact]
    public async Task A_tracestate_is_cut_from_the_right_when_no_member_is_long()
    {
        var capture = new TelemetryCapture();
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString, new Dictionary<string, string?>
        {
            ["FuncGateway:Telemetry:TrustClientTraceContext"] = "true",
        }, services: capture.AddTo);
        await using var upstream = await TestUpstream.StartAsync("echo");
        await gateway.UpsertRouteAsync("echo", "/echo/{**rest}", upstream.BaseAddress.ToString());
        await gateway.ReloadAsync();
        var members = Enumerable.Range(1, 30).Select(static i => $"v{i:D2}=" + new string('x', 20)).ToList();

        var forwarded = await SendTraceStateAsync(gateway, [string.Join(',', members)]);

        // 24 characters a member, 25 with its comma: 20 members are 499 characters, 21 would be 524.
        Assert.Equal([string.Join(',', members.Take(20))], forwarded);
    }

    private static async Task<List<string>> SendTraceStateAsync(GatewayHost gateway, string[] traceState)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/echo/traced");
        request.Headers.TryAddWithoutValidation("traceparent", ClientParent);
        foreach (var field in traceState)
        {
            request.Headers.TryAddWithoutValidation("tracestate", field);
        }

        using var response = await gateway.Client.SendAsync(request);
        return [.. (await Echo.ReadAsync(response)).Header("tracestate")];
    }

    private static async Task<Echo> SendWithTraceAsync(GatewayHost gateway)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/echo/traced");
        request.Headers.TryAddWithoutValidation("traceparent", ClientParent);
        request.Headers.TryAddWithoutValidation("tracestate", "vendor=opaque");
        request.Headers.TryAddWithoutValidation("baggage", "tenant=contoso");
        using var response = await gateway.Client.SendAsync(request);
        return await Echo.ReadAsync(response);
    }
}
