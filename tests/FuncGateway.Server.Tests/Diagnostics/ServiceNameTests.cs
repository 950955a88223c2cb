using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Trace;

namespace FuncGateway.Server.Tests.Diagnostics;

/// <summary>
/// The service name the server's telemetry carries (a collector's service, Application Insights' cloud_RoleName):
/// FuncGateway, unless the standard OpenTelemetry settings name one.
/// </summary>
public sealed class ServiceNameTests
{
    [Theory]
    [InlineData(null, null, "FuncGateway")]
    [InlineData("orders-edge", null, "orders-edge")]
    [InlineData(null, "deployment.environment=prod,service.name=billing%20edge", "billing edge")]
    [InlineData("orders-edge", "service.name=other", "orders-edge")]
    [InlineData("", "deployment.environment=prod", "FuncGateway")]
    public void The_standard_settings_name_the_service(string? serviceName, string? resourceAttributes, string expected)
    {
        var settings = new Dictionary<string, string?> { ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://127.0.0.1:9" };
        if (serviceName is not null)
        {
            settings["OTEL_SERVICE_NAME"] = serviceName;
        }

        if (resourceAttributes is not null)
        {
            settings["OTEL_RESOURCE_ATTRIBUTES"] = resourceAttributes;
        }

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection().AddLogging().AddSingleton<IConfiguration>(configuration);
        services.AddFuncGatewayOpenTelemetry(configuration);
        using var provider = services.BuildServiceProvider();

        var attributes = provider.GetRequiredService<TracerProvider>().GetResource().Attributes.ToDictionary(a => a.Key, a => a.Value);
        Assert.Equal(expected, attributes["service.name"]);
        Assert.True(attributes.ContainsKey("service.instance.id"));
        if (resourceAttributes?.Contains("deployment.environment", StringComparison.Ordinal) == true)
        {
            Assert.Equal("prod", attributes["deployment.environment"]);
        }
    }
}
