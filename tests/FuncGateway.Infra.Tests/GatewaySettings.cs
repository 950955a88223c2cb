using FuncGateway.Model;

namespace FuncGateway.Infra.Tests;

/// <summary>
/// THE list of settings the gateway reads at start-up that the Azure deployment must set, as app setting names
/// (<c>FuncGateway__Section__Key</c>, the form of <c>FuncGateway:Section:Key</c> in app settings). It mirrors the
/// "Configuration" table of README.md. The template tests check that <c>infra/main.bicep</c> sets every one of them;
/// a reflection test checks that every option of <see cref="GatewayOptions"/> is either here or in
/// <see cref="NotSetInAzure"/>, so a new option fails the build until the deployment decides about it.
/// </summary>
/// <remarks>
/// To add a setting: add its name here and a line to the <c>appSettings</c> object in <c>infra/main.bicep</c> (with
/// a parameter if it differs between environments; a Key Vault reference if it is a secret).
/// </remarks>
internal static class GatewaySettings
{
    public static readonly IReadOnlyList<string> ReadAtStartup =
    [
        "FuncGateway__Storage__TableServiceUri",
        "FuncGateway__Storage__TablePrefix",
        "FuncGateway__Registry__RefreshIntervalSeconds",
        "FuncGateway__Registry__StartupWaitSeconds",
        "FuncGateway__Registry__ReadTimeoutSeconds",
        "FuncGateway__Registry__Groups",
        "FuncGateway__Forwarding__DefaultTimeoutSeconds",
        "FuncGateway__Forwarding__ConnectTimeoutSeconds",
        "FuncGateway__Forwarding__PooledConnectionLifetimeSeconds",
        "FuncGateway__Forwarding__PooledConnectionIdleTimeoutSeconds",
        "FuncGateway__Forwarding__MaxRequestBodySizeBytes",
        "FuncGateway__Forwarding__MaxBufferedResponseBytes",
        "FuncGateway__Forwarding__MaxComposedResponseBytes",
        "FuncGateway__Forwarding__PublicHosts",
        "FuncGateway__Forwarding__AllowedUpstreams",
        "FuncGateway__Forwarding__MinResponseDataRateBytesPerSecond",
        "FuncGateway__Forwarding__MinResponseDataRateGraceSeconds",
        "FuncGateway__ForwardedHeaders__TrustedProxies",
        "FuncGateway__Admin__Key",
        "FuncGateway__Telemetry__SamplingRatio",
        "FuncGateway__Telemetry__AccessLog",
        "FuncGateway__Telemetry__AcceptClientRequestId",
        "FuncGateway__Telemetry__TrustClientTraceContext",
        "FuncGateway__Telemetry__ForwardBaggage",
        // [#3 identity] settings go below this line. Per-policy keys (FuncGateway__Auth__Policies__<name>__…, e.g. a Jwt
        // policy's TokenCacheSeconds and TokenCacheSize) are set through main.bicep's authPolicies object, not one by one.

        // [#5 rate limits] settings go below this line.
        "FuncGateway__RateLimits__KeyHashSecret",

        // [#6 resilience] settings go below this line.

        // [#14 caching]
        "FuncGateway__Cache__MaxEntryBytes",
        "FuncGateway__Cache__MaxTotalBytes",
        "FuncGateway__Cache__RedisConnectionString",

        // [#16 discovery]
        "FuncGateway__Discovery__Dns__Servers",
        "FuncGateway__Discovery__Dns__MinTtlSeconds",
        "FuncGateway__Discovery__Dns__MaxTtlSeconds",
        "FuncGateway__Discovery__Registration__RefreshSeconds",
    ];

    /// <summary>
    /// Sections of named policies, configured per entry (<c>FuncGateway__Cors__Policies__web__AllowedOrigins</c>) rather
    /// than as fixed settings: each is an object parameter of <c>infra/main.bicep</c> that the template turns into app
    /// settings. To add one: a parameter there, a <c>settings4</c> line in <c>configuredSettings</c>, and a line here.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> PolicySections = new Dictionary<string, string>
    {
        ["FuncGateway__Auth__Policies"] = "authPolicies",
        ["FuncGateway__RateLimits__Policies"] = "rateLimitPolicies",
        ["FuncGateway__Cors__Policies"] = "corsPolicies",
        ["FuncGateway__Versioning__Sets"] = "versionSets",
        ["FuncGateway__Discovery__Registration__Keys"] = "discoveryRegistrationKeys",
    };

    /// <summary>Options the deployment leaves unset on purpose, with the reason.</summary>
    public static readonly IReadOnlyDictionary<string, string> NotSetInAzure = new Dictionary<string, string>
    {
        ["FuncGateway__Storage__ConnectionString"] = "Azure uses the app's managed identity with TableServiceUri; a connection string would win over it.",
        ["FuncGateway__Storage__ManagedIdentityClientId"] = "the app's identity is system-assigned; the client id is only for a user-assigned one.",
        ["FuncGateway__Telemetry__PrometheusEndpoint"] = "FuncGateway.Server only; in Azure, metrics go to Application Insights (and to an OTLP collector when otlpEndpoint is set).",
        ["FuncGateway__RateLimits__InstanceEstimate"] = RateLimitTuning,
        ["FuncGateway__RateLimits__MaxPartitionsPerPolicy"] = RateLimitTuning,
        ["FuncGateway__RateLimits__OperationTimeoutSeconds"] = RateLimitTuning,
        ["FuncGateway__RateLimits__OutageBackoffSeconds"] = RateLimitTuning,
        ["FuncGateway__RateLimits__IPv6PrefixLength"] = RateLimitTuning,
        ["FuncGateway__RateLimits__MaintenanceIntervalSeconds"] = "FuncGateway.Server only; the Functions app runs maintenance from its timer function.",
        ["FuncGateway__RateLimits__RetentionSeconds"] = RateLimitTuning,
        ["FuncGateway__RateLimits__AuthenticationFailures__Enabled"] = RateLimitTuning,
        ["FuncGateway__RateLimits__AuthenticationFailures__Policy"] = RateLimitTuning,
        ["FuncGateway__RateLimits__AuthenticationFailures__Limit"] = RateLimitTuning,
        ["FuncGateway__RateLimits__AuthenticationFailures__WindowSeconds"] = RateLimitTuning,
        ["FuncGateway__RateLimits__AuthenticationFailures__FailurePolicy"] = RateLimitTuning,
        ["FuncGateway__Admin__MaxFailedAttempts"] = AdminTuning,
        ["FuncGateway__Admin__FailureWindowSeconds"] = AdminTuning,
        ["FuncGateway__Discovery__Consul__Address"] = DiscoveryByHand,
        ["FuncGateway__Discovery__Consul__Token"] = DiscoveryByHand,
        ["FuncGateway__Discovery__Consul__WaitSeconds"] = DiscoveryByHand,
        ["FuncGateway__Discovery__Kubernetes__Kubeconfig"] = DiscoveryByHand,
        ["FuncGateway__Discovery__Kubernetes__Context"] = DiscoveryByHand,

        // [#16 discovery]
        ["FuncGateway__Discovery__Dns__TimeoutSeconds"] = DiscoveryTuning,
        ["FuncGateway__Discovery__MaxInstancesPerPool"] = DiscoveryTuning,
        ["FuncGateway__Discovery__Registration__DefaultLeaseSeconds"] = DiscoveryTuning,
        ["FuncGateway__Discovery__Registration__MaxLeaseSeconds"] = DiscoveryTuning,
    };

    private const string DiscoveryByHand = "only for pools whose Discovery source is consul or kubernetes, which a Flex Consumption app rarely reaches; set through gatewaySettings when used (the Consul token through gatewaySecretNames, a Key Vault reference), docs/discovery-consul-kubernetes.md.";

    private const string DiscoveryTuning = "discovery tuning: the gateway's default fits until an app decides otherwise (docs/discovery.md 'Settings').";

    private const string AdminTuning = "admin-key failure tuning: the gateway's default (10 wrong keys per client address per 60 s, per instance) fits until an app decides otherwise (README 'Refused admin requests').";

    private const string RateLimitTuning = "rate-limit tuning: the gateway's default fits until an app decides otherwise (policies themselves are per app, README 'Rate limits').";

    /// <summary>Settings the Functions host needs for its own storage: identity-based, never a connection string.</summary>
    public static readonly IReadOnlyList<string> HostStorage =
    [
        "AzureWebJobsStorage__accountName",
        "AzureWebJobsStorage__credential",
    ];

    /// <summary>
    /// Settings the deployment must not write: storage secrets (a connection string or key), the legacy Application
    /// Insights key, and app settings that Flex Consumption replaced with <c>functionAppConfig</c>.
    /// </summary>
    public static readonly IReadOnlyList<string> Forbidden =
    [
        "AzureWebJobsStorage",
        "FuncGateway__Storage__ConnectionString",
        "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING",
        "WEBSITE_CONTENTSHARE",
        "APPINSIGHTS_INSTRUMENTATIONKEY",
        "FUNCTIONS_WORKER_RUNTIME",
        "FUNCTIONS_EXTENSION_VERSION",
        "WEBSITE_RUN_FROM_PACKAGE",
    ];
}
