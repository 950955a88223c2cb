using FuncGateway.LoadBalancing;
using FuncGateway.Health;
using FuncGateway.Resilience;

namespace FuncGateway.Cli.Tests;

/// <summary>The resilience settings in a registry file: native JSON objects, written back unchanged, validated like the tables.</summary>
public sealed class ResilienceRegistryFileTests
{
    private const string File = """
        {
          "upstreams": [
            {
              "name": "orders",
              "instances": [ "http://10.0.0.4:8080", { "url": "http://10.0.0.5:8080", "weight": 3 } ],
              "loadBalancing": "ConsistentHash",
              "hashKey": "Header:X-Tenant",
              "healthCheck": { "path": "/health", "intervalSeconds": 5, "unhealthyThreshold": 2 },
              "circuitBreaker": { "failureRatio": 0.25, "breakSeconds": 20 }
            }
          ],
          "routes": [
            {
              "id": "orders",
              "path": "/api/orders/{**rest}",
              "upstream": "orders",
              "retries": { "maxRetries": 1, "retryOnStatus": [ 503 ] },
              "fallback": { "status": 503, "headers": { "Retry-After": "30" }, "body": "orders are resting" }
            }
          ]
        }
        """;

    [Fact]
    public void Resilience_settings_read_and_write_back_as_native_json()
    {
        var file = RegistryFile.Parse(File, "f.json");

        var pool = Assert.Single(file.Upstreams!);
        var route = Assert.Single(file.Routes!);
        Assert.Equal(("Header:X-Tenant", "/health", 5.0, 0.25), (pool.Get(LoadBalancingProperties.HashKey), pool.Get(HealthProperties.HealthCheck)!.Path, pool.Get(HealthProperties.HealthCheck)!.IntervalSeconds, pool.Get(ResilienceProperties.CircuitBreaker)!.FailureRatio));
        Assert.Equal((1, 503, "30", "orders are resting"), (route.Get(ResilienceProperties.Retries)!.MaxRetries, route.Get(ResilienceProperties.Fallback)!.Status, route.Get(ResilienceProperties.Fallback)!.Headers!["Retry-After"], route.Get(ResilienceProperties.Fallback)!.Body));

        var written = RegistryFile.Serialize(file.Upstreams, file.Routes);
        var again = RegistryFile.Parse(written, "written.json");

        Assert.Equal(written, RegistryFile.Serialize(again.Upstreams, again.Routes));
        Assert.Contains("\"healthCheck\": {", written, StringComparison.Ordinal);
        Assert.DoesNotContain("\"healthyThreshold\"", written, StringComparison.Ordinal);
        Assert.Equal(RegistryFormat.ToRow(pool).Properties, RegistryFormat.ToRow(Assert.Single(again.Upstreams!)).Properties);
        Assert.Equal(RegistryFormat.ToRow(route).Properties, RegistryFormat.ToRow(Assert.Single(again.Routes!)).Properties);
    }

    [Theory]
    [InlineData("\"healthCheck\": { \"interval\": 5 }", "Unknown property 'interval'")]
    [InlineData("\"circuitBreaker\": { \"failureRatio\": \"0.5\" }", "Expected a number here")]
    public void A_malformed_setting_is_refused_with_its_position(string property, string expected)
    {
        var json = $$"""{ "upstreams": [ { "name": "p", "instances": [ "http://a" ], {{property}} } ] }""";

        var error = Assert.Throws<CliException>(() => RegistryFile.Parse(json, "f.json"));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }
}
