using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace FuncGateway.Model;

/// <summary>
/// Settings under the <c>FuncGateway</c> configuration section. The same keys serve both hosts: as
/// <c>FuncGateway__Storage__ConnectionString</c> in app settings or environment variables, or nested JSON.
/// </summary>
public sealed class GatewayOptions
{
    /// <summary>The configuration section name.</summary>
    public const string SectionName = "FuncGateway";

    /// <summary>Where the registry tables live.</summary>
    [Required]
    [ValidateObjectMembers]
    public StorageOptions Storage { get; set; } = new();

    /// <summary>How often the route registry is re-read.</summary>
    [Required]
    [ValidateObjectMembers]
    public RegistryOptions Registry { get; set; } = new();

    /// <summary>The pooled upstream client and per-request forwarding defaults.</summary>
    [Required]
    [ValidateObjectMembers]
    public ForwardingOptions Forwarding { get; set; } = new();

    /// <summary>Which peers may tell the gateway who the client is.</summary>
    [Required]
    [ValidateObjectMembers]
    public ForwardedHeadersOptions ForwardedHeaders { get; set; } = new();

    /// <summary>The admin surface under <c>/_gateway/</c>.</summary>
    [Required]
    [ValidateObjectMembers]
    public AdminOptions Admin { get; set; } = new();

    /// <summary>Request ids, trace context, sampling and the access log.</summary>
    [Required]
    [ValidateObjectMembers]
    public GatewayTelemetryOptions Telemetry { get; set; } = new();
}

/// <summary>Request ids, trace context, sampling and the access log (<c>FuncGateway:Telemetry</c>).</summary>
public sealed class GatewayTelemetryOptions
{
    /// <summary>
    /// Keep a client's own <c>X-Request-Id</c> (when it is 1-128 characters of letters, digits and <c>-._:+/=</c>)
    /// instead of generating one. Off: every request gets the gateway's id, whatever the client sent.
    /// </summary>
    public bool AcceptClientRequestId { get; set; }

    /// <summary>
    /// Continue the trace of any client's <c>traceparent</c>. Off (the default): only a peer in
    /// <c>FuncGateway:ForwardedHeaders:TrustedProxies</c> continues its trace; anyone else's trace is linked, and the
    /// gateway starts a new one.
    /// </summary>
    public bool TrustClientTraceContext { get; set; }

    /// <summary>Forward the client's W3C <c>baggage</c> header to upstreams. Off: it is removed.</summary>
    public bool ForwardBaggage { get; set; }

    /// <summary>Share of new traces recorded (0-1), parent-based: a trace the gateway continues keeps its parent's decision.</summary>
    [Range(0.0, 1.0)]
    public double SamplingRatio { get; set; } = 1.0;

    /// <summary>Where the access log goes (one JSON line per request): off, standard output, or the logging pipeline.</summary>
    public AccessLogMode AccessLog { get; set; } = AccessLogMode.Off;

    /// <summary>
    /// <c>FuncGateway.Server</c> only: serve metrics in the Prometheus text format at <c>/_gateway/metrics</c>, behind the
    /// admin key.
    /// </summary>
    public bool PrometheusEndpoint { get; set; }
}

/// <summary>Where the access log goes.</summary>
public enum AccessLogMode
{
    /// <summary>No access log.</summary>
    Off,

    /// <summary>One JSON line per request on standard output, written in the background.</summary>
    Console,

    /// <summary>One JSON line per request as the message of log event 5000, category <c>FuncGateway.AccessLog</c>.</summary>
    Logger,
}

/// <summary>Storage account settings.</summary>
public sealed class StorageOptions
{
    /// <summary>
    /// A storage connection string (<c>UseDevelopmentStorage=true</c> locally). When empty, the gateway falls back
    /// to the <c>AzureWebJobsStorage</c> setting the Functions host already requires.
    /// </summary>
    public string? ConnectionString { get; set; }

    /// <summary>
    /// Table service endpoint (<c>https://&lt;account&gt;.table.core.windows.net</c>) used with a managed identity
    /// (<c>DefaultAzureCredential</c>) when no connection string is set. The identity needs "Storage Table Data Contributor".
    /// </summary>
    public string? TableServiceUri { get; set; }

    /// <summary>Client id of a user-assigned managed identity; empty for the system-assigned identity.</summary>
    public string? ManagedIdentityClientId { get; set; }

    /// <summary>Prefix of every table name, so several gateways can share one account. Letters and digits only.</summary>
    [Required]
    [RegularExpression("^[A-Za-z][A-Za-z0-9]{0,39}$", ErrorMessage = "TablePrefix must start with a letter and hold only letters and digits (at most 40).")]
    public string TablePrefix { get; set; } = "Gateway";

    /// <summary>The routes table: <c>{TablePrefix}Routes</c>.</summary>
    public string RoutesTable => TablePrefix + "Routes";

    /// <summary>The upstream pools table: <c>{TablePrefix}Upstreams</c>.</summary>
    public string UpstreamsTable => TablePrefix + "Upstreams";

    /// <summary>The named JSON Schemas table: <c>{TablePrefix}Schemas</c>.</summary>
    public string SchemasTable => TablePrefix + "Schemas";

    /// <summary>
    /// The gateway's own records about its storage: <c>{TablePrefix}State</c>. It records each registry table the
    /// gateway has seen, so that one missing later is known to be lost rather than new (not a registry table).
    /// </summary>
    public string StateTable => TablePrefix + "State";
}

/// <summary>Route registry polling.</summary>
public sealed class RegistryOptions
{
    /// <summary>Seconds between two reads of the registry tables; a change is live on every instance within this bound (plus one read).</summary>
    [Range(0.2, 3600)]
    public double RefreshIntervalSeconds { get; set; } = 5;

    /// <summary>How long a request that arrives before the first snapshot loads waits for it before answering 503.</summary>
    [Range(0, 120)]
    public double StartupWaitSeconds { get; set; } = 10;

    /// <summary>Timeout of one registry read against storage.</summary>
    [Range(1, 300)]
    public double ReadTimeoutSeconds { get; set; } = 15;

    /// <summary>
    /// Comma-separated route groups this gateway serves (<c>web</c>, <c>web,partner</c>): only routes whose <c>Groups</c>
    /// name one of them. Empty: every route. Several gateways can so share one registry.
    /// </summary>
    public string? Groups { get; set; }
}

/// <summary>Upstream client settings.</summary>
public sealed class ForwardingOptions
{
    /// <summary>
    /// Default per-route timeout in seconds: the longest the gateway waits on an upstream with no activity
    /// (no response headers, no body bytes either way) before answering 504.
    /// </summary>
    [Range(0.001, 3600)]
    public double DefaultTimeoutSeconds { get; set; } = 100;

    /// <summary>TCP connect timeout to an upstream instance.</summary>
    [Range(0.1, 300)]
    public double ConnectTimeoutSeconds { get; set; } = 10;

    /// <summary>How long a pooled connection lives before it is replaced, so DNS changes are picked up.</summary>
    [Range(1, 86400)]
    public double PooledConnectionLifetimeSeconds { get; set; } = 300;

    /// <summary>How long an idle pooled connection is kept.</summary>
    [Range(1, 86400)]
    public double PooledConnectionIdleTimeoutSeconds { get; set; } = 60;

    /// <summary>Largest request body accepted, in bytes (larger ones get 413). Matches the Functions front end's 100 MB by default.</summary>
    [Range(0, long.MaxValue)]
    public long MaxRequestBodySizeBytes { get; set; } = 100L * 1024 * 1024;

    /// <summary>
    /// The largest upstream response body buffered on a route whose response transforms need the body (every other
    /// route streams). A larger body is refused with 502 <c>response_too_large</c>.
    /// </summary>
    [Range(1, 1024L * 1024 * 1024)]
    public long MaxBufferedResponseBytes { get; set; } = 1024 * 1024;

    /// <summary>
    /// On a composition route, the most one request may hold: its parts' answers together, and the composed body
    /// (which can be several times larger, a text answer being escaped as a JSON string). Over it: 502
    /// <c>composition_too_large</c>.
    /// </summary>
    [Range(1024, 1024L * 1024 * 1024)]
    public long MaxComposedResponseBytes { get; set; } = 8 * 1024 * 1024;

    /// <summary>
    /// Comma-separated host names clients may address the gateway by (<c>api.example.com</c>, <c>*.example.com</c>,
    /// an optional <c>:port</c>, <c>*</c> for any). A request naming another host gets 421 before routing, and only a
    /// host that matched is sent upstream as <c>X-Forwarded-Host</c>. Empty: every host is accepted and
    /// <c>X-Forwarded-Host</c> is never sent.
    /// </summary>
    public string? PublicHosts { get; set; }

    /// <summary>
    /// Comma-separated hosts (<c>orders.internal</c>, <c>*.internal.example</c>, optional <c>:port</c>), IP addresses
    /// and CIDR ranges that routes and pools may point at; a row pointing elsewhere is rejected. Empty: any host.
    /// Link-local and cloud metadata addresses are refused whatever this says.
    /// </summary>
    public string? AllowedUpstreams { get; set; }

    /// <summary>
    /// The slowest a client may read a response, in bytes per second (Kestrel's minimum response data rate); a slower
    /// client is disconnected and its upstream request cancelled. 0 turns the check off.
    /// </summary>
    [Range(0, 1_000_000_000)]
    public double MinResponseDataRateBytesPerSecond { get; set; } = 4096;

    /// <summary>How long any write may take before <see cref="MinResponseDataRateBytesPerSecond"/> is enforced (Kestrel needs more than its 1 s tick).</summary>
    [Range(2, 3600)]
    public double MinResponseDataRateGraceSeconds { get; set; } = 10;

    /// <summary>The minimum response data rate to apply, or null when it is off.</summary>
    public Microsoft.AspNetCore.Server.Kestrel.Core.MinDataRate? MinResponseDataRate() => MinResponseDataRateBytesPerSecond > 0
        ? new(MinResponseDataRateBytesPerSecond, TimeSpan.FromSeconds(MinResponseDataRateGraceSeconds))
        : null;
}

/// <summary>Forwarded-header trust.</summary>
public sealed class ForwardedHeadersOptions
{
    /// <summary>
    /// Comma-separated IP addresses or CIDR ranges of proxies in front of the gateway whose <c>X-Forwarded-For</c>
    /// and <c>X-Forwarded-Proto</c> are believed. Empty: the socket peer is the client and every client-supplied
    /// forwarded header is replaced.
    /// </summary>
    public string? TrustedProxies { get; set; }
}

/// <summary>Admin surface settings.</summary>
public sealed class AdminOptions
{
    /// <summary>The key a caller sends in <c>X-Admin-Key</c>. No key: the admin surface is off (404), except <c>/_gateway/healthz</c>.</summary>
    public string? Key { get; set; }

    /// <summary>
    /// Wrong admin keys one client address may send per <see cref="FailureWindowSeconds"/> on one instance before it gets
    /// 429 <c>admin_throttled</c> until the window ends, whatever key it sends. 0: never.
    /// </summary>
    [Range(0, 100_000)]
    public int MaxFailedAttempts { get; set; } = 10;

    /// <summary>The window refused admin requests are counted, throttled and logged in (first per client, then a summary).</summary>
    [Range(1, 3600)]
    public int FailureWindowSeconds { get; set; } = 60;
}
