using FuncGateway.Health;
using FuncGateway.Core.Tests.Configuration;
using FuncGateway.Model;
using FuncGateway.Configuration;
using FuncGateway.LoadBalancing;
using FuncGateway.Resilience;
using static FuncGateway.Core.Tests.Configuration.RegistryRows;

namespace FuncGateway.Core.Tests.Resilience;

public class ResilienceFormatTests
{
    private static GatewaySnapshot Build(RegistryRow[] upstreams, RegistryRow[] routes) =>
        new SnapshotBuilder(RegistryFormat.Serializer, new LoadBalancingPolicyRegistry([]), TimeSpan.FromSeconds(100),
                [new RouteResilienceCompiler(TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger<RouteResilience>.Instance)], poolCompilers: TestCompilers.Pools(new InstanceStateRegistry()))
            .Build(new RegistryContent(upstreams, routes), 1, DateTimeOffset.UnixEpoch);

    private static string Errors(GatewaySnapshot snapshot, string rowKey) =>
        string.Join(" | ", Assert.Single(snapshot.Rejected, r => r.RowKey == rowKey).Errors);

    [Fact]
    public void A_pool_with_every_resilience_property_compiles_and_round_trips()
    {
        var row = Upstream("orders", """["http://a","http://b"]""",
            ("LoadBalancing", "ConsistentHash"),
            ("HashKey", "Header:X-Tenant"),
            ("HealthCheck", """{"path":"/ready","expectedStatus":"200,204","timeoutSeconds":1,"intervalSeconds":5,"unhealthyThreshold":2,"healthyThreshold":3}"""),
            ("CircuitBreaker", """{"failureRatio":0.25,"minimumThroughput":20,"samplingSeconds":60,"breakSeconds":5}"""));

        var snapshot = Build([row], []);

        Assert.Empty(snapshot.Rejected);
        var pool = snapshot.Upstreams["orders"];
        Assert.Equal(("ConsistentHash", "Header:X-Tenant", "/ready", 3), (pool.Policy.Name, pool.HashKey.ToString(), pool.HealthCheck!.Path, pool.HealthCheck!.HealthyThreshold));
        Assert.Equal(new CircuitBreakerSettings(true, 0.25, 20, TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(5)), pool.Instances[0].Breaker.Settings);
        var definition = RegistryFormat.ParseUpstream(row, [])!;
        var again = RegistryFormat.ToRow(definition);
        Assert.Equal(row.Properties.Where(p => p.Key != "Instances").OrderBy(p => p.Key), again.Properties.Where(p => p.Key != "Instances").OrderBy(p => p.Key));
    }

    [Fact]
    public void Routes_with_the_same_retry_shape_share_one_retry_pipeline_but_keep_their_own_budget()
    {
        var snapshot = Build([Upstream("orders", """["http://a"]""")],
        [
            Route("a", "/a", "orders"),
            Route("b", "/b", "orders"),
            Route("c", "/c", "orders", ("Retries", """{"maxRetries":1}""")),
            Route("d", "/d", "orders", ("Retries", """{"maxRetries":0}""")),
        ]);

        Assert.Empty(snapshot.Rejected);
        var resilience = snapshot.Routes.ToDictionary(r => r.Definition.Id, r => r.GetFeature<RouteResilience>()!);
        Assert.Same(resilience["a"].Pipeline, resilience["b"].Pipeline);
        Assert.NotSame(resilience["a"].Budget, resilience["b"].Budget);
        Assert.Equal(("a", "b"), (resilience["a"].RouteId, resilience["b"].RouteId));
        Assert.NotSame(resilience["a"].Pipeline, resilience["c"].Pipeline);
        Assert.Same(Polly.ResiliencePipeline<AttemptResult>.Empty, resilience["d"].Pipeline);
    }

    [Fact]
    public void A_pool_without_resilience_properties_gets_round_robin_the_default_breaker_and_no_probing()
    {
        var snapshot = Build([Upstream("orders", """["http://a"]""")], []);

        var pool = snapshot.Upstreams["orders"];
        Assert.Equal(LoadBalancingPolicies.RoundRobin, pool.Policy.Name);
        Assert.Null(pool.HealthCheck);
        Assert.Equal(CircuitBreakerSettings.Default, pool.Instances[0].Breaker.Settings);
        Assert.Equal((0.5, 10, 30.0, 10.0), (CircuitBreakerSettings.Default.FailureRatio, CircuitBreakerSettings.Default.MinimumThroughput,
            CircuitBreakerSettings.Default.SamplingDuration.TotalSeconds, CircuitBreakerSettings.Default.BreakDuration.TotalSeconds));
    }

    [Theory]
    [InlineData("LoadBalancing", "Random", "Unknown load-balancing policy 'Random'. Known: ConsistentHash, LeastRequests, PowerOfTwoChoices, RoundRobin, WeightedRoundRobin.")]
    [InlineData("HashKey", "Header:X-Tenant", "HashKey is only used by LoadBalancing ConsistentHash")]
    [InlineData("CircuitBreaker", """{"failureRatio":1.5}""", "failureRatio 1.5 is outside (0, 1]")]
    [InlineData("CircuitBreaker", """{"minimumThroughput":1}""", "minimumThroughput 1 is outside")]
    [InlineData("CircuitBreaker", """{"breakSeconds":0.1}""", "breakSeconds 0.1 is outside [0.5, 3600]")]
    [InlineData("CircuitBreaker", """{"breakseconds":"x"}""", "CircuitBreaker is not valid")]
    [InlineData("HealthCheck", """{"timeoutSeconds":30}""", "timeoutSeconds 30 is longer than intervalSeconds 10")]
    public void A_bad_pool_setting_rejects_the_pool_with_the_reason(string property, string value, string expected)
    {
        var snapshot = Build([Upstream("orders", """["http://a"]""", (property, value))], []);

        Assert.Empty(snapshot.Upstreams);
        Assert.Contains(expected, Errors(snapshot, "orders"), StringComparison.Ordinal);
    }

    [Fact]
    public void A_route_with_retries_and_a_fallback_compiles_and_round_trips()
    {
        var row = Route("orders", "/orders", "http://a",
            ("Retries", """{"maxRetries":1,"backoffMilliseconds":5,"retryOnStatus":[503],"retryOnTimeout":true,"budgetPercent":50}"""),
            ("Fallback", """{"status":200,"headers":{"Content-Type":"application/json","X-Fallback":"1"},"body":"[]"}"""));

        var snapshot = Build([], [row]);

        Assert.Empty(snapshot.Rejected);
        var resilience = Assert.Single(snapshot.Routes).GetFeature<RouteResilience>()!;
        Assert.Equal((1, TimeSpan.FromMilliseconds(5), TimeSpan.FromMilliseconds(500), true, 50.0, 10.0),
            (resilience.Retry.MaxRetries, resilience.Retry.Backoff, resilience.Retry.MaxBackoff, resilience.Retry.RetryOnTimeout, resilience.Retry.BudgetPercent, resilience.Retry.BudgetMinPerSecond));
        Assert.Equal([503], resilience.Retry.RetryOnStatus);
        Assert.Equal(200, resilience.Fallback!.Status);
        var again = RegistryFormat.ToRow(RegistryFormat.ParseRoute(row, [])!);
        Assert.Equal(row.Properties.OrderBy(p => p.Key), again.Properties.OrderBy(p => p.Key));
    }

    [Fact]
    public void A_route_without_retries_gets_the_documented_defaults_and_no_fallback()
    {
        var resilience = Assert.Single(Build([], [Route("orders", "/orders", "http://a")]).Routes).GetFeature<RouteResilience>()!;

        Assert.Same(RetrySettings.Default, resilience.Retry);
        Assert.Equal((2, 20.0, 500.0, false, 20.0, 10.0), (resilience.Retry.MaxRetries, resilience.Retry.Backoff.TotalMilliseconds,
            resilience.Retry.MaxBackoff.TotalMilliseconds, resilience.Retry.RetryOnTimeout, resilience.Retry.BudgetPercent, resilience.Retry.BudgetMinPerSecond));
        Assert.Equal([502, 503, 504], resilience.Retry.RetryOnStatus.Order());
        Assert.Null(resilience.Fallback);
    }

    [Theory]
    [InlineData("Retries", """{"maxRetries":11}""", "maxRetries 11 is outside 0–10")]
    [InlineData("Retries", """{"retryOnStatus":[404]}""", "retryOnStatus 404 is not a 5xx status")]
    [InlineData("Retries", """{"backoffMilliseconds":100,"maxBackoffMilliseconds":50}""", "maxBackoffMilliseconds 50 is shorter than backoffMilliseconds 100")]
    [InlineData("Retries", """{"budgetPercent":101}""", "budgetPercent 101 is outside [0, 100]")]
    [InlineData("Retries", "3", "Retries is not valid")]
    [InlineData("Fallback", """{"body":"x"}""", "missing required properties")]
    [InlineData("Fallback", """{"status":99}""", "Fallback status 99 is outside 200–599")]
    [InlineData("Fallback", """{"status":503,"headers":{"Content-Length":"5"}}""", "'Content-Length' is set by the gateway")]
    [InlineData("Fallback", """{"status":503,"headers":{"X-A":"a\r\nSet-Cookie: x"}}""", "needs a single-line value")]
    [InlineData("Fallback", """{"status":503,"headers":{"X-A":"naïve"}}""", "needs a single-line value of visible ASCII")]
    [InlineData("Fallback", """{"status":503,"headers":{"X-A":"a\u0001b"}}""", "needs a single-line value of visible ASCII")]
    [InlineData("Fallback", """{"status":503,"headers":{"bad name":"x"}}""", "'bad name' is not a valid header name")]
    public void A_bad_route_setting_rejects_the_route_with_the_reason(string property, string value, string expected)
    {
        var snapshot = Build([], [Route("orders", "/orders", "http://a", (property, value))]);

        Assert.Empty(snapshot.Routes);
        Assert.Contains(expected, Errors(snapshot, "orders"), StringComparison.Ordinal);
    }

    [Fact]
    public void Connect_failures_and_connect_timeouts_are_recognised_through_wrappers()
    {
        var refused = new HttpRequestException(HttpRequestError.ConnectionError, "refused");
        var ended = new HttpRequestException(HttpRequestError.ResponseEnded, "ended");
        var connectTimeout = new TaskCanceledException("timed out", new TimeoutException("connect"));

        Assert.True(ForwardAttempt.IsConnectFailure(new InvalidOperationException("x", refused)));
        Assert.True(ForwardAttempt.IsConnectFailure(new AggregateException(new IOException(), refused)));
        Assert.False(ForwardAttempt.IsConnectFailure(ended));
        Assert.True(ForwardAttempt.IsConnectTimeout(connectTimeout));
        Assert.False(ForwardAttempt.IsConnectTimeout(new TaskCanceledException("activity timeout")));
    }
}
