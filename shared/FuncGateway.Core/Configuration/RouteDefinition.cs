using FuncGateway.Routing;

namespace FuncGateway.Configuration;

/// <summary>A route as an operator wrote it: one row of the routes table, or one item of a registry file.</summary>
public sealed record RouteDefinition
{
    /// <summary>Route id (the entity's RowKey). Unique across partitions.</summary>
    public required string Id { get; init; }

    /// <summary>Free-form group label (the entity's PartitionKey).</summary>
    public string Group { get; init; } = RegistryFormat.DefaultGroup;

    /// <summary>Path template in ASP.NET Core route syntax, e.g. <c>/api/orders/{id:int}</c> or <c>/api/{**rest}</c>.</summary>
    public required string Path { get; init; }

    /// <summary>Allowed methods (upper case). Empty: every method.</summary>
    public IReadOnlyList<string> Methods { get; init; } = [];

    /// <summary>Host patterns (<c>api.example.com</c>, <c>*.example.com</c>, optional <c>:port</c>). Empty: any host.</summary>
    public IReadOnlyList<string> Hosts { get; init; } = [];

    /// <summary>Header conditions that must all hold.</summary>
    public IReadOnlyList<RequestCondition> Headers { get; init; } = [];

    /// <summary>Query-string conditions that must all hold.</summary>
    public IReadOnlyList<RequestCondition> Query { get; init; } = [];

    /// <summary>An upstream pool name, or an absolute http(s) URL for a single instance.</summary>
    public required string Upstream { get; init; }

    /// <summary>Target path template reusing the route's parameters, e.g. <c>/v2/orders/{id}</c>.</summary>
    public string? UpstreamPath { get; init; }

    /// <summary>Leading literal path to remove before forwarding, e.g. <c>/api</c>.</summary>
    public string? StripPrefix { get; init; }

    /// <summary>Tie-breaker between routes of equal specificity: higher wins.</summary>
    public int Priority { get; init; }

    /// <summary>Upstream inactivity timeout in seconds; the gateway answers 504 when it passes. Null: the configured default.</summary>
    public double? TimeoutSeconds { get; init; }

    /// <summary>False keeps the row but takes the route out of service.</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>Send the client's Host header to the upstream instead of the instance's host.</summary>
    public bool PreserveHost { get; init; }

    /// <summary>
    /// One method or URL override header (<c>X-HTTP-Method-Override</c>, <c>X-HTTP-Method</c>, <c>X-Method-Override</c>,
    /// <c>X-Original-URL</c>, <c>X-Rewrite-URL</c>) that the client may send to this route's upstream. Null: all five
    /// are removed.
    /// </summary>
    public string? AllowOverrideHeader { get; init; }

    /// <summary>
    /// Forward protocol upgrade requests (WebSocket handshakes) to the upstream as tunnels. False: an upgrade request
    /// is refused with 400 <c>upgrade_not_allowed</c>.
    /// </summary>
    public bool WebSockets { get; init; }

    // [#3 identity] additions go below this line.

    /// <summary>
    /// Authentication policy names (any one may accept the caller), or the single word <c>anonymous</c>. Required:
    /// a route is never anonymous by omission.
    /// </summary>
    [System.Text.Json.Serialization.JsonConverter(typeof(FuncGateway.Authentication.AuthListJsonConverter))]
    public IReadOnlyList<string> Auth { get; init; } = [];

    /// <summary>Roles, scopes and claims the caller must have (403 otherwise). Null: authentication is enough.</summary>
    public FuncGateway.Authentication.RouteAuthorization? Authorization { get; init; }

    /// <summary>A query parameter that may carry the bearer token (e.g. <c>access_token</c> for WebSockets). Null: header only.</summary>
    public string? TokenQueryParameter { get; init; }

    /// <summary>A query parameter that may carry the API key. Null: header only.</summary>
    public string? ApiKeyQueryParameter { get; init; }

    /// <summary>
    /// On an authenticated route, pass an <c>access_token</c> query parameter on to the upstream. False (default): it
    /// is removed from the forwarded URL, so a token never lands in an upstream's URL or logs by accident.
    /// </summary>
    public bool ForwardAccessTokenQuery { get; init; }

    // [#5 rate limits] additions go below this line.
    /// <summary>Names of the rate-limit policies (<c>FuncGateway:RateLimits:Policies</c>) the route applies, in order. Empty: not limited.</summary>
    public IReadOnlyList<string> RateLimit { get; init; } = [];

    // [#6 resilience] additions go below this line.

    /// <summary>Retries to other instances (JSON object). Null: the defaults (2 retries of idempotent requests).</summary>
    public FuncGateway.Resilience.RetryDefinition? Retries { get; init; }

    /// <summary>The response served when no instance can answer. Null: a 503/502/504 problem response.</summary>
    public FuncGateway.Resilience.FallbackDefinition? Fallback { get; init; }
}

/// <summary>A named pool of upstream instances.</summary>
public sealed record UpstreamDefinition
{
    /// <summary>Pool name (the entity's RowKey), referenced by routes.</summary>
    public required string Name { get; init; }

    /// <summary>Free-form group label (the entity's PartitionKey).</summary>
    public string Group { get; init; } = RegistryFormat.DefaultGroup;

    /// <summary>The instances; at least one.</summary>
    public required IReadOnlyList<UpstreamInstanceDefinition> Instances { get; init; }

    /// <summary>Load-balancing policy name. Default <c>RoundRobin</c>.</summary>
    public string LoadBalancing { get; init; } = FuncGateway.LoadBalancing.LoadBalancingPolicies.RoundRobin;

    // [#6 resilience] upstream additions go below this line.

    /// <summary>What <c>ConsistentHash</c> hashes: <c>ClientIp</c> (default), <c>Header:Name</c> or <c>Claim:type</c>.</summary>
    public string? HashKey { get; init; }

    /// <summary>Active health checking (JSON object). Null: the pool is not probed.</summary>
    public FuncGateway.Health.HealthCheckDefinition? HealthCheck { get; init; }

    /// <summary>The per-instance circuit breaker (JSON object). Null: the defaults.</summary>
    public FuncGateway.Resilience.CircuitBreakerDefinition? CircuitBreaker { get; init; }
}

/// <summary>One upstream instance.</summary>
/// <param name="Url">Absolute http or https base URL; a path in it is prefixed to every forwarded path.</param>
/// <param name="Weight">Relative weight (1–1000), for weighted policies.</param>
public sealed record UpstreamInstanceDefinition(string Url, int Weight = 1);
