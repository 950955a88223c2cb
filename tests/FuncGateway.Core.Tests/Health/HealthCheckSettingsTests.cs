using FuncGateway.Health;

namespace FuncGateway.Core.Tests.Health;

public class HealthCheckSettingsTests
{
    [Fact]
    public void An_empty_definition_takes_the_documented_defaults()
    {
        var settings = HealthCheckSettings.Create(new HealthCheckDefinition(), [])!;

        Assert.Equal(("/health", "200-299", TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(10), 3, 2),
            (settings.Path, settings.ExpectedStatus, settings.Timeout, settings.Interval, settings.UnhealthyThreshold, settings.HealthyThreshold));
        Assert.Equal(TimeSpan.FromSeconds(70), settings.StaleAfter);
    }

    [Theory]
    [InlineData("204", 204, true)]
    [InlineData("204", 200, false)]
    [InlineData("200-299", 299, true)]
    [InlineData("200,204,300-399", 302, true)]
    [InlineData("200,204,300-399", 404, false)]
    public void Expected_statuses_are_codes_and_ranges(string expected, int status, bool healthy)
    {
        var settings = HealthCheckSettings.Create(new HealthCheckDefinition { ExpectedStatus = expected }, [])!;

        Assert.Equal(healthy, settings.IsExpected(status));
    }

    [Theory]
    [InlineData("{\"path\":\"health\"}", "path 'health' must be a path starting with '/'")]
    [InlineData("{\"path\":\"//evil.example/x\"}", "must be a path starting with '/'")]
    [InlineData("{\"expectedStatus\":\"2xx\"}", "expectedStatus '2xx'")]
    [InlineData("{\"expectedStatus\":\"300-200\"}", "expectedStatus '300-200'")]
    [InlineData("{\"timeoutSeconds\":0}", "timeoutSeconds 0 is outside")]
    [InlineData("{\"timeoutSeconds\":5,\"intervalSeconds\":2}", "timeoutSeconds 5 is longer than intervalSeconds 2")]
    [InlineData("{\"intervalSeconds\":0.01}", "intervalSeconds 0.01 is outside")]
    [InlineData("{\"unhealthyThreshold\":0}", "unhealthyThreshold 0 is outside")]
    [InlineData("{\"healthyThreshold\":101}", "healthyThreshold 101 is outside")]
    [InlineData("{\"path\":\"/h\",\"interval\":5}", "'interval' could not be mapped")]
    [InlineData("[1]", "HealthCheck is not valid")]
    public void A_bad_health_check_rejects_the_pool_with_the_reason(string json, string expected)
    {
        var errors = new List<string>();

        Assert.Null(FuncGateway.Health.HealthCheckFormat.Parse(json, errors));
        Assert.Contains(expected, string.Join(" | ", errors), StringComparison.Ordinal);
    }
}
