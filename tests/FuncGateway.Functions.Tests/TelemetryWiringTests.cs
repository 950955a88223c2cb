using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace FuncGateway.Functions.Tests;

/// <summary>
/// The worker's OpenTelemetry wiring: nothing listens unless an exporter is configured; with Application Insights (as
/// the deployment sets it, Entra ID authentication) and OTLP, the graph validates and the gateway's spans are recorded.
/// </summary>
public sealed class TelemetryWiringTests
{
    [Fact]
    public void Without_an_exporter_setting_no_tracer_or_meter_provider_is_registered()
    {
        using var host = FunctionsAppHost.Build();

        Assert.Null(host.Services.GetService<TracerProvider>());
        Assert.Null(host.Services.GetService<MeterProvider>());
        Assert.Null(host.Services.GetService<FuncGateway.Diagnostics.GatewayTraceSampler>());
    }

    [Fact]
    public void With_application_insights_and_otlp_the_graph_validates_and_the_gateway_source_is_recorded()
    {
        using var host = FunctionsAppHost.Build(
        [
            "--APPLICATIONINSIGHTS_CONNECTION_STRING=InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=https://127.0.0.1:9/",
            "--APPLICATIONINSIGHTS_AUTHENTICATION_STRING=Authorization=AAD",
            "--OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:9",
            "--FuncGateway:Telemetry:SamplingRatio=1",
        ]);

        Assert.NotNull(host.Services.GetRequiredService<TracerProvider>());
        Assert.NotNull(host.Services.GetRequiredService<MeterProvider>());
        using var source = new ActivitySource("FuncGateway");
        using var span = source.StartActivity("probe", ActivityKind.Server);
        Assert.NotNull(span);
        Assert.True(span.Recorded);

        // The gateway decides with the SDK's own sampler before it creates a request's span.
        Assert.Equal(1, host.Services.GetRequiredService<FuncGateway.Diagnostics.GatewayTraceSampler>().Ratio);
    }

    [Theory]
    [InlineData("grpc", "")]
    [InlineData("http/protobuf", "api-key=0123456789abcdef,x-tenant=shop")]
    public void The_collector_settings_as_the_deployment_writes_them_build_the_exporters(string protocol, string headers)
    {
        // infra/main.bicep always writes all four; without otlpHeaders and otelServiceName they are empty strings.
        using var host = FunctionsAppHost.Build(
        [
            "--OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:9",
            "--OTEL_EXPORTER_OTLP_PROTOCOL=" + protocol,
            "--OTEL_EXPORTER_OTLP_HEADERS=" + headers,
            "--OTEL_SERVICE_NAME=",
        ]);

        Assert.NotNull(host.Services.GetRequiredService<TracerProvider>());
        Assert.NotNull(host.Services.GetRequiredService<MeterProvider>());
        var options = host.Services.GetRequiredService<Microsoft.Extensions.Options.IOptionsMonitor<OpenTelemetry.Exporter.OtlpExporterOptions>>().Get("tracing");
        Assert.Equal(protocol == "grpc" ? OpenTelemetry.Exporter.OtlpExportProtocol.Grpc : OpenTelemetry.Exporter.OtlpExportProtocol.HttpProtobuf, options.Protocol);
        Assert.Equal(headers.Length == 0 ? null : headers, options.Headers);
    }

    [Fact]
    public void A_sampling_ratio_of_zero_records_no_new_trace()
    {
        using var host = FunctionsAppHost.Build(["--OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:9", "--FuncGateway:Telemetry:SamplingRatio=0"]);

        Assert.NotNull(host.Services.GetRequiredService<TracerProvider>());
        using var source = new ActivitySource("FuncGateway");
        using var span = source.StartActivity("probe", ActivityKind.Server);
        Assert.False(span?.Recorded ?? false);
        Assert.Equal(0, host.Services.GetRequiredService<FuncGateway.Diagnostics.GatewayTraceSampler>().Ratio);
    }

    [Fact]
    public void Telemetry_is_named_after_the_site_unless_the_standard_settings_name_the_service()
    {
        // As the Functions host's own telemetry (WEBSITE_SITE_NAME; the process name outside Azure): Application
        // Insights shows it as cloud_RoleName.
        var siteName = new Microsoft.Azure.Functions.Worker.OpenTelemetry.FunctionsResourceDetector().Detect().Attributes
            .Single(a => a.Key == "service.name").Value;
        Assert.Equal(siteName, ServiceName(["--OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:9"]));

        // An operator with several gateways names them.
        Assert.Equal("orders-edge", ServiceName(["--OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:9", "--OTEL_SERVICE_NAME=orders-edge"]));
        Assert.Equal("billing edge", ServiceName(
        [
            "--OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:9",
            "--OTEL_RESOURCE_ATTRIBUTES=deployment.environment=prod, service.name=billing%20edge",
        ]));

        // OTEL_SERVICE_NAME first, as the specification orders them; an empty one (an unset Bicep parameter) names nothing.
        Assert.Equal("orders-edge", ServiceName(
        [
            "--OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:9",
            "--OTEL_SERVICE_NAME=orders-edge",
            "--OTEL_RESOURCE_ATTRIBUTES=service.name=other",
        ]));
        Assert.Equal(siteName, ServiceName(["--OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:9", "--OTEL_SERVICE_NAME="]));
    }

    [Fact]
    public void The_other_resource_attributes_an_operator_sets_are_kept()
    {
        using var host = FunctionsAppHost.Build(
        [
            "--OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:9",
            "--OTEL_RESOURCE_ATTRIBUTES=deployment.environment=prod",
        ]);

        var attributes = host.Services.GetRequiredService<TracerProvider>().GetResource().Attributes.ToDictionary(a => a.Key, a => a.Value);
        Assert.Equal("prod", attributes["deployment.environment"]);
        Assert.True(attributes.ContainsKey("service.instance.id"));
        // And the worker's own (the process, and in Azure the cloud and the site's resource id).
        Assert.All(
            new Microsoft.Azure.Functions.Worker.OpenTelemetry.FunctionsResourceDetector().Detect().Attributes.Where(a => a.Key != "service.name"),
            a => Assert.True(attributes.ContainsKey(a.Key), a.Key));
    }

    private static string? ServiceName(string[] arguments)
    {
        using var host = FunctionsAppHost.Build(arguments);
        return host.Services.GetRequiredService<TracerProvider>().GetResource().Attributes
            .Single(a => a.Key == "service.name").Value as string;
    }
}
