using Azure.Identity;
using Azure.Monitor.OpenTelemetry.Exporter;
using FuncGateway.Diagnostics;
using FuncGateway.Model;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Wires the OpenTelemetry SDK to the gateway's source and meter (and Polly's meter) with the exporters the
/// configuration asks for. Nothing is registered when no exporter is asked for, so that nothing listens and the
/// gateway's telemetry costs next to nothing.
/// </summary>
public static class GatewayOpenTelemetryExtensions
{
    /// <summary>The OTLP endpoint setting the OpenTelemetry exporter reads (with <c>OTEL_EXPORTER_OTLP_PROTOCOL</c>, <c>…_HEADERS</c>).</summary>
    public const string OtlpEndpointSetting = "OTEL_EXPORTER_OTLP_ENDPOINT";

    /// <summary>
    /// The service name (Application Insights' <c>cloud_RoleName</c>) when neither standard setting names one. The
    /// Functions app's worker replaces it with the site name, as the Functions host's own telemetry has it.
    /// </summary>
    public const string DefaultServiceName = "FuncGateway";

    /// <summary>The Application Insights connection string setting.</summary>
    public const string AzureMonitorSetting = "APPLICATIONINSIGHTS_CONNECTION_STRING";

    /// <summary>How Application Insights wants to be authenticated (<c>Authorization=AAD</c>, optional <c>ClientId=…</c>).</summary>
    public const string AzureMonitorAuthenticationSetting = "APPLICATIONINSIGHTS_AUTHENTICATION_STRING";

    /// <summary>Polly's meter, on the routes' retry pipelines: retries and attempt durations (its pipeline durations are dropped).</summary>
    public const string PollyMeterName = "Polly";

    /// <summary>Polly's per-execution pipeline duration, not exported (see <see cref="AddFuncGatewayOpenTelemetry"/>).</summary>
    public const string PollyPipelineDurationMetric = "resilience.polly.pipeline.duration";

    /// <summary>
    /// Registers the OpenTelemetry SDK when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> or
    /// <c>APPLICATIONINSIGHTS_CONNECTION_STRING</c> is set, or <paramref name="localMetrics"/> (the host serves a
    /// metrics endpoint itself). Traces are sampled parent-based with <c>FuncGateway:Telemetry:SamplingRatio</c>.
    /// Returns the builder for the host to add to (its own exporters or instrumentation), or null when nothing was
    /// registered.
    /// </summary>
    /// <param name="services">The host's services.</param>
    /// <param name="configuration">The host's configuration.</param>
    /// <param name="localMetrics">The host exports metrics itself (the server's Prometheus endpoint).</param>
    /// <param name="exportLogs">
    /// Send log records to the exporters too. The Functions app passes false: its host already collects the worker's logs.
    /// </param>
    public static OpenTelemetryBuilder? AddFuncGatewayOpenTelemetry(this IServiceCollection services, IConfiguration configuration, bool localMetrics = false, bool exportLogs = true)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        var otlp = !string.IsNullOrWhiteSpace(configuration[OtlpEndpointSetting]);
        var azureMonitor = configuration[AzureMonitorSetting] is { Length: > 0 } connectionString && !string.IsNullOrWhiteSpace(connectionString);
        if (!otlp && !azureMonitor && !localMetrics)
        {
            return null;
        }

        var telemetry = new GatewayTelemetryOptions();
        configuration.GetSection(GatewayOptions.SectionName).GetSection("Telemetry").Bind(telemetry);
        var ratio = Math.Clamp(telemetry.SamplingRatio, 0, 1);
        var credential = AzureMonitorCredential(configuration[AzureMonitorAuthenticationSetting]);
        void ConfigureAzureMonitor(AzureMonitorExporterOptions options)
        {
            options.ConnectionString = configuration[AzureMonitorSetting];
            options.SamplingRatio = (float)ratio;
            if (credential is not null)
            {
                options.Credential = credential;
            }
        }

        services.AddFuncGatewayPollyTelemetry();
        var builder = services.AddOpenTelemetry()
            .ConfigureResource(static resource => resource.AddService(serviceName: DefaultServiceName, autoGenerateServiceInstanceId: true).AddOperatorAttributes());
        if (otlp || azureMonitor)
        {
            builder.WithTracing(tracing =>
            {
                tracing.AddSource(GatewayTelemetry.Name);
                if (otlp)
                {
                    tracing.AddOtlpExporter();
                }

                if (azureMonitor)
                {
                    tracing.AddAzureMonitorTraceExporter(ConfigureAzureMonitor);
                }

                // Last, so that it is the sampler whatever an exporter sets.
                tracing.SetFuncGatewaySampler(ratio);
            });
        }

        builder.WithMetrics(metrics =>
        {
            metrics.AddMeter(GatewayTelemetry.Name, PollyMeterName);

            // Polly times every execution of every pipeline, and every request runs its instance's breaker pipeline
            // around exactly one attempt: funcgateway.upstream.attempt.duration already says the same, with bounded
            // tags. Dropped, the instrument has no listener and Polly skips the measurement altogether.
            metrics.AddView(PollyPipelineDurationMetric, MetricStreamConfiguration.Drop);
            if (otlp)
            {
                metrics.AddOtlpExporter();
            }

            if (azureMonitor)
            {
                metrics.AddAzureMonitorMetricExporter(ConfigureAzureMonitor);
            }
        });
        if (exportLogs && (otlp || azureMonitor))
        {
            builder.WithLogging(logging =>
            {
                if (otlp)
                {
                    logging.AddOtlpExporter();
                }

                if (azureMonitor)
                {
                    logging.AddAzureMonitorLogExporter(ConfigureAzureMonitor);
                }
            });
        }

        return builder;
    }

    /// <summary>
    /// Samples traces parent-based with <paramref name="ratio"/> of new traces, and lets the gateway decide with the
    /// same sampler before it creates a request's span: a request it does not record then gets no span at all (only
    /// its trace context, which the upstream still receives), where the SDK alone would create an unrecorded one.
    /// Another sampler set after this one would disagree with the gateway's decisions: set none.
    /// </summary>
    /// <param name="tracing">The tracer provider builder of the host's services.</param>
    /// <param name="ratio">The share of new traces recorded, 0 to 1.</param>
    /// <returns>The same builder.</returns>
    public static TracerProviderBuilder SetFuncGatewaySampler(this TracerProviderBuilder tracing, double ratio)
    {
        ArgumentNullException.ThrowIfNull(tracing);
        var sampler = new GatewayTraceSampler(ratio);
        return tracing.SetSampler(sampler.Sampler).ConfigureServices(services => services.AddSingleton(sampler));
    }

    /// <summary>
    /// Turns on Polly's own telemetry for the routes' retry pipelines: the <c>Polly</c> meter (retries, attempt
    /// durations). Instance breakers report through the gateway's own circuit transitions counter instead. Its log
    /// lines would repeat the gateway's own, so its logger is off. <see cref="AddFuncGatewayOpenTelemetry"/>
    /// calls it whenever it exports metrics; without it Polly's per-execution telemetry wrapper is not built at all.
    /// </summary>
    /// <param name="services">The host's services.</param>
    /// <returns>The same services.</returns>
    public static IServiceCollection AddFuncGatewayPollyTelemetry(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton(static _ => new Polly.Telemetry.TelemetryOptions { LoggerFactory = Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance });
        return services;
    }

    /// <summary>
    /// Applies the operator's resource settings, <c>OTEL_RESOURCE_ATTRIBUTES</c> and <c>OTEL_SERVICE_NAME</c> (which
    /// wins), over what the builder has so far. The SDK reads them first by default; a resource added after them (the
    /// gateway's default name, the Functions worker's detector) would override what the operator set, so a host
    /// applies them again last.
    /// </summary>
    /// <param name="resource">The host's resource builder.</param>
    /// <returns>The same builder.</returns>
    public static ResourceBuilder AddOperatorAttributes(this ResourceBuilder resource)
    {
        ArgumentNullException.ThrowIfNull(resource);
        return resource.AddEnvironmentVariableDetector();
    }

    /// <summary>
    /// Entra ID authentication when <c>APPLICATIONINSIGHTS_AUTHENTICATION_STRING</c> says <c>Authorization=AAD</c> (the
    /// deployment does: local authentication is off on the component), with the managed identity of <c>ClientId</c>
    /// when given.
    /// </summary>
    internal static global::Azure.Core.TokenCredential? AzureMonitorCredential(string? authentication)
    {
        if (string.IsNullOrWhiteSpace(authentication))
        {
            return null;
        }

        var aad = false;
        string? clientId = null;
        foreach (var part in authentication.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var separator = part.IndexOf('=', StringComparison.Ordinal);
            if (separator <= 0)
            {
                continue;
            }

            var key = part[..separator].Trim();
            var value = part[(separator + 1)..].Trim();
            if (key.Equals("Authorization", StringComparison.OrdinalIgnoreCase) && value.Equals("AAD", StringComparison.OrdinalIgnoreCase))
            {
                aad = true;
            }
            else if (key.Equals("ClientId", StringComparison.OrdinalIgnoreCase) && value.Length > 0)
            {
                clientId = value;
            }
        }

        return aad ? new DefaultAzureCredential(new DefaultAzureCredentialOptions { ManagedIdentityClientId = clientId }) : null;
    }
}
