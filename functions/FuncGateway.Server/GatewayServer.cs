using FuncGateway.Admin;
using FuncGateway.Model;
using FuncGateway.Pipeline;
using FuncGateway.Server.Framing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;

namespace FuncGateway.Server;

/// <summary>
/// The gateway core on plain Kestrel: how FuncGateway runs locally without Functions Core Tools, in a container,
/// and in the end-to-end tests. Same configuration keys as the Functions app.
/// </summary>
public static class GatewayServer
{
    /// <summary>Where the server listens when neither <c>--urls</c> nor <c>ASPNETCORE_URLS</c> says otherwise (Core Tools' default port).</summary>
    public const string DefaultUrl = "http://127.0.0.1:7071";

    /// <summary>Builds the server. <paramref name="configure"/> lets tests add configuration before services are built.</summary>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });

        // local.settings.json's "Values" (the Functions app's local settings) sit below every other source, so one
        // file serves both hosts and environment variables still win.
        var localSettings = builder.Configuration["LocalSettings"] ?? FindLocalSettings();
        if (localSettings is not null)
        {
            builder.Configuration.Sources.Insert(0, new LocalSettingsConfigurationSource(localSettings));
        }

        if (string.IsNullOrEmpty(builder.Configuration["urls"]) && string.IsNullOrEmpty(builder.Configuration["http_ports"]))
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }

        builder.WebHost.ConfigureKestrel(static kestrel =>
        {
            kestrel.AddServerHeader = false;

            // The gateway sets the body limit per request (FuncGateway:Forwarding:MaxRequestBodySizeBytes).
            kestrel.Limits.MaxRequestBodySize = null;
        });
        // Kestrel reads only its endpoints from configuration; the server also takes its limits from there
        // (Kestrel:Limits:MaxConcurrentConnections, MaxConcurrentUpgradedConnections, KeepAliveTimeout, ...).
        builder.Services.AddOptions<KestrelServerOptions>().Configure<IConfiguration>(static (kestrel, configuration) =>
            configuration.GetSection(KestrelLimitsSection).Bind(kestrel.Limits));

        // What Kestrel's parser hides from the core (Content-Length '+5', over-long chunk extensions) is checked on the
        // bytes, and the request line and header limits are enforced there too, so that they are answered as
        // problem+json (Kestrel's own 414 and 431, a few bytes higher, have no body). After every limit is configured.
        builder.Services.AddOptions<KestrelServerOptions>().PostConfigure(static kestrel =>
        {
            var limits = Http1HeadLimits.TakeFrom(kestrel.Limits);
            kestrel.ConfigureEndpointDefaults(listen => listen.UseHttp1FramingGuard(limits));
        });
        builder.Services.AddFuncGateway(builder.Configuration);

        // The core sets the response data rate per HTTP/1.x request; HTTP/2 streams only have the server-wide limit.
        builder.Services.AddOptions<KestrelServerOptions>().Configure<IOptions<GatewayOptions>>(static (kestrel, gateway) =>
            kestrel.Limits.MinResponseDataRate = gateway.Value.Forwarding.MinResponseDataRate());

        // Timers become hosted services here: one server of the fleet (the lease holder) probes upstream health.
        builder.Services.AddFuncGatewayHealthProber();
        builder.Services.AddHostedService<RateLimitMaintenanceService>();
        configure?.Invoke(builder);

        // OTLP and Azure Monitor when their settings are set; the Prometheus text format at /_gateway/metrics when asked.
        var prometheus = builder.Configuration.GetValue<bool>(PrometheusEndpointKey);
        builder.Services.AddFuncGatewayOpenTelemetry(builder.Configuration, localMetrics: prometheus)?
            .WithMetrics(metrics =>
            {
                if (prometheus)
                {
                    metrics.AddPrometheusExporter();
                }
            });

        var app = builder.Build();
        var pipeline = app.Services.GetRequiredService<GatewayPipeline>();
        if (prometheus)
        {
            // Served through the gateway's admin surface: public host check, admin key, request id, like every admin endpoint.
            var scrape = ((IApplicationBuilder)app).New()
                .UseOpenTelemetryPrometheusScrapingEndpoint(meterProvider: null, predicate: static _ => true, path: null, configureBranchedPipeline: null, optionsName: null)
                .Build();
            app.Services.GetRequiredService<AdminExtensionEndpoints>().Map(MetricsEndpointName, scrape);
        }

        app.Run(pipeline.InvokeAsync);
        return app;
    }

    /// <summary>The configuration section bound to Kestrel's limits.</summary>
    public const string KestrelLimitsSection = "Kestrel:Limits";

    /// <summary>The setting that turns the Prometheus endpoint on.</summary>
    public const string PrometheusEndpointKey = "FuncGateway:Telemetry:PrometheusEndpoint";

    /// <summary>The admin endpoint of the Prometheus text format: <c>/_gateway/metrics</c>.</summary>
    public const string MetricsEndpointName = "metrics";

    private static string? FindLocalSettings()
    {
        foreach (var candidate in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            var path = Path.Combine(candidate, "local.settings.json");
            if (File.Exists(path))
            {
                return path;
            }
        }

        return null;
    }
}
