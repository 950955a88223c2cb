using System.Net;
using FuncGateway.Server.Tests.Infrastructure;
using FuncGateway.Server.Tests.Resilience;
using FuncGateway.Testing;

namespace FuncGateway.Server.Tests.Diagnostics;

/// <summary>The gateway's metrics through real Kestrel requests, captured with OpenTelemetry's in-memory exporter.</summary>
[Collection("Azurite")]
public sealed class MetricsTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task A_429_counts_as_a_rejected_rate_limit_decision_of_its_policy_and_mode()
    {
        var capture = new TelemetryCapture();
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString, new Dictionary<string, string?>
        {
            ["FuncGateway:RateLimits:KeyHashSecret"] = "metrics-test-secret-0123456789abcdef",
            ["FuncGateway:RateLimits:Policies:per_ip:Limit"] = "1",
            ["FuncGateway:RateLimits:Policies:per_ip:WindowSeconds"] = "3600",
            ["FuncGateway:RateLimits:Policies:per_ip:Mode"] = "Strict",
        }, services: capture.AddTo);
        await using var upstream = await TestUpstream.StartAsync("echo");
        await gateway.UpsertRouteAsync("limited", "/limited", upstream.BaseAddress.ToString(), ("RateLimit", "per_ip"));
        await gateway.ReloadAsync();

        using (var first = await gateway.Client.GetAsync("/limited"))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        using (var second = await gateway.Client.GetAsync("/limited"))
        {
            await Problem.AssertAsync(second, HttpStatusCode.TooManyRequests, "rate_limited");
        }

        Assert.Equal(1, capture.CounterSum(gateway, "funcgateway.ratelimit.decisions", ("funcgateway.policy", "per_ip"), ("funcgateway.ratelimit.mode", "strict"), ("funcgateway.decision", "rejected")));
        Assert.Equal(1, capture.CounterSum(gateway, "funcgateway.ratelimit.decisions", ("funcgateway.policy", "per_ip"), ("funcgateway.decision", "allowed")));
        Assert.Equal(1, capture.CounterSum(gateway, "funcgateway.requests", ("funcgateway.route.id", "limited"), ("http.request.method", "GET"), ("http.response.status_class", "4xx")));
        Assert.Equal(1, capture.HistogramCount(gateway, "funcgateway.request.duration", ("funcgateway.route.id", "limited"), ("http.response.status_class", "2xx")));

        // The strict counters live in Table Storage: their latency is measured by table.
        Assert.True(capture.HistogramCount(gateway, "funcgateway.table.operation.duration", ("funcgateway.table", "RateLimits")) >= 1);
        Assert.True(capture.HistogramCount(gateway, "funcgateway.table.operation.duration", ("funcgateway.table", "Routes")) >= 1);
    }

    [Fact]
    public async Task Attempts_auth_outcomes_breaker_transitions_and_instance_health_are_measured()
    {
        var capture = new TelemetryCapture();
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString, services: capture.AddTo);
        await using var flaky = await ControllableUpstream.StartAsync("flaky");
        flaky.Status = 500;
        await gateway.UpsertPoolAsync("flaky", [(flaky.BaseAddress, 1)], ("CircuitBreaker", """{"minimumThroughput":2,"failureRatio":0.5,"breakSeconds":60}"""));
        await gateway.UpsertRouteAsync("flaky", "/flaky", "flaky", ("Retries", """{"maxRetries":0}"""));
        await gateway.ReloadAsync();

        for (var i = 0; i < 2; i++)
        {
            using var failing = await gateway.Client.GetAsync("/flaky");
            Assert.Equal(HttpStatusCode.InternalServerError, failing.StatusCode);
        }

        using (var open = await gateway.Client.GetAsync("/flaky"))
        {
            await Problem.AssertAsync(open, HttpStatusCode.ServiceUnavailable, "no_upstream_available");
        }

        var instance = flaky.BaseAddress.ToString().TrimEnd('/');
        Assert.Equal(2, capture.HistogramCount(gateway, "funcgateway.upstream.attempt.duration", ("funcgateway.pool", "flaky"), ("funcgateway.instance", instance), ("funcgateway.outcome", "5xx")));
        Assert.Equal(3, capture.CounterSum(gateway, "funcgateway.auth.outcomes", ("funcgateway.policy", "anonymous"), ("funcgateway.outcome", "anonymous")));
        Assert.Equal(1, capture.CounterSum(gateway, "funcgateway.circuit.transitions", ("funcgateway.pool", "flaky"), ("funcgateway.instance", instance), ("funcgateway.circuit.state", "open")));
        var available = Assert.Single(capture.Points(gateway, "funcgateway.upstream.instance.available", ("funcgateway.pool", "flaky")));
        Assert.Equal(0, available.GetGaugeLastValueLong());
        var healthy = Assert.Single(capture.Points(gateway, "funcgateway.upstream.instance.healthy", ("funcgateway.pool", "flaky")));
        Assert.Equal(1, healthy.GetGaugeLastValueLong());

        // The breaker's events are the gateway's transitions counter; Polly's meter does not count every attempt again.
        Assert.Empty(capture.Points(gateway, "resilience.polly.strategy.events", ("pipeline.name", "flaky")));
    }

    [Fact]
    public async Task Pollys_own_meter_reports_the_retries_of_a_route()
    {
        var capture = new TelemetryCapture();
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString, services: capture.AddTo);
        await using var first = await ControllableUpstream.StartAsync("first");
        await using var second = await ControllableUpstream.StartAsync("second");
        first.Status = 503;
        second.Status = 503;
        await gateway.UpsertPoolAsync("unavailable", [(first.BaseAddress, 1), (second.BaseAddress, 1)]);
        await gateway.UpsertRouteAsync("unavailable", "/unavailable", "unavailable", ("Retries", """{"maxRetries":1,"backoffMilliseconds":1}"""));
        await gateway.ReloadAsync();

        using (var response = await gateway.Client.GetAsync("/unavailable"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        }

        Assert.Equal(1, capture.CounterSum(gateway, "resilience.polly.strategy.events", ("event.name", "OnRetry"), ("pipeline.name", "route-retries")));
        Assert.Equal(2, capture.HistogramCount(gateway, "resilience.polly.strategy.attempt.duration", ("pipeline.name", "route-retries")));
    }

    [Fact]
    public async Task The_prometheus_endpoint_is_behind_the_admin_key_and_lists_the_gateways_metrics()
    {
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString, new Dictionary<string, string?>
        {
            ["FuncGateway:Telemetry:PrometheusEndpoint"] = "true",
        });
        await using var upstream = await TestUpstream.StartAsync("echo");
        await gateway.UpsertRouteAsync("echo", "/echo/{**rest}", upstream.BaseAddress.ToString());
        await gateway.ReloadAsync();
        using (var proxied = await gateway.Client.GetAsync("/echo/a"))
        {
            Assert.Equal(HttpStatusCode.OK, proxied.StatusCode);
        }

        using (var anonymous = await gateway.Client.GetAsync("/_gateway/metrics"))
        {
            await Problem.AssertAsync(anonymous, HttpStatusCode.Unauthorized, "admin_unauthorized");
        }

        using var request = new HttpRequestMessage(HttpMethod.Get, "/_gateway/metrics");
        request.Headers.Add("X-Admin-Key", GatewayHost.AdminKey);
        using var response = await gateway.Client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("funcgateway_requests_total{", text, StringComparison.Ordinal);
        Assert.Contains("funcgateway_route_id=\"echo\"", text, StringComparison.Ordinal);
        Assert.Contains("funcgateway_request_duration_seconds_bucket{", text, StringComparison.Ordinal);
        Assert.Contains("funcgateway_upstream_attempt_duration_seconds_bucket{", text, StringComparison.Ordinal);

        // Buckets in seconds (5 ms to 10 s): a request of a few milliseconds is under 0.01, not in a bucket of 5 s.
        var requestBuckets = text.Split('\n').Where(l => l.StartsWith("funcgateway_request_duration_seconds_bucket{", StringComparison.Ordinal)).ToList();
        Assert.Contains(requestBuckets, l => l.Contains("le=\"0.005\"", StringComparison.Ordinal));
        Assert.Contains(requestBuckets, l => l.Contains("le=\"10\"", StringComparison.Ordinal));
        Assert.DoesNotContain(requestBuckets, l => l.Contains("le=\"10000\"", StringComparison.Ordinal));

        // Polly's per-execution pipeline duration would repeat the attempt duration on every request: dropped.
        Assert.DoesNotContain("resilience_polly_pipeline_duration", text, StringComparison.Ordinal);
        Assert.True(response.Headers.Contains("X-Request-Id"));
    }
}
