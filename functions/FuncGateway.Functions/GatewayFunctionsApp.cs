using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Azure.Functions.Worker.OpenTelemetry;
using Microsoft.Extensions.Configuration.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry;

namespace FuncGateway.Functions;

/// <summary>
/// The Functions app's service registrations, in one place so that <c>Program.cs</c> and the tests build the same
/// DI graph.
/// </summary>
public static class GatewayFunctionsApp
{
    /// <summary>The setting the core reads for the proxies whose <c>X-Forwarded-*</c> headers it trusts.</summary>
    public const string TrustedProxiesKey = "FuncGateway:ForwardedHeaders:TrustedProxies";

    /// <summary>The loopback networks, IPv4 and IPv6: where the Functions host's requests come from.</summary>
    public const string LoopbackTrustedProxies = "127.0.0.0/8,::1";

    /// <summary>
    /// Registers the gateway core. Call after <c>ConfigureFunctionsWebApplication()</c>, which must stay in
    /// <c>Program.cs</c> (the worker's analyzer looks for it there).
    /// </summary>
    public static void ConfigureServices(FunctionsApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);

        // The Functions host proxies every HTTP request to this worker over loopback: the worker's TCP peer is always
        // 127.0.0.1 or ::1, and the client's address, scheme and host arrive only in X-Forwarded-*. The worker's
        // ASP.NET Core integration usually applies those headers before the core runs; trusting loopback keeps the
        // core right when it does not. The default goes first in the source list so that every other source (app
        // settings, environment, command line, anything added later) overrides it, even with an empty value.
        builder.Configuration.Sources.Insert(0, new MemoryConfigurationSource
        {
            InitialData = [new(TrustedProxiesKey, LoopbackTrustedProxies)],
        });

        // Per-request framework logs (ASP.NET Core hosting, YARP's "Proxying to...") would double the CPU cost of
        // a request and flood Application Insights; the gateway logs what matters itself.
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Yarp", LogLevel.Warning);

        builder.Services.AddFuncGateway(builder.Configuration);

        // OTLP and Azure Monitor exporters when their settings are set, with the worker's own invocation spans and
        // resource attributes. Logs are left to the Functions host, which already collects the worker's.
        // The worker names the service after the site (WEBSITE_SITE_NAME), like the host's own telemetry, unless the
        // operator named it (OTEL_SERVICE_NAME): that name is applied last.
        builder.Services.AddFuncGatewayOpenTelemetry(builder.Configuration, exportLogs: false)?.UseFunctionsWorkerDefaults()
            .ConfigureResource(static resource => resource.AddOperatorAttributes());

        // The host never delivers /admin and /runtime/webhooks to a function: routes there are rejected, with the reason.
        builder.Services.AddFuncGatewayFunctionsHostRules();
    }
}
