using System.Text.Json.Serialization;

namespace FuncGateway.Model;

/// <summary>A route as an operator wrote it: one row of the routes table, or one item of a registry file.</summary>
public sealed record RouteDefinition
{
    /// <summary>Route id (the entity's RowKey). Unique across partitions.</summary>
    public required string Id { get; init; }

    /// <summary>Free-form group label (the entity's PartitionKey).</summary>
    public string Group { get; init; } = RegistryConventions.DefaultGroup;

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

    /// <summary>
    /// An upstream pool name, or an absolute http(s) URL for a single instance. Null only on a route that answers by
    /// itself (a capability's responder: <c>FixedResponse</c>, <c>Composition</c>).
    /// </summary>
    public string? Upstream { get; init; }

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
    /// The values of the properties capabilities declare (<see cref="RegistryProperty"/>: authentication, rate limits,
    /// retries...). Read one with <see cref="Get{T}"/>.
    /// </summary>
    [JsonIgnore]
    public RegistryPropertyValues Properties
    {
        get => _properties;
        init => _properties = value ?? RegistryPropertyValues.Empty;
    }

    private RegistryPropertyValues _properties = RegistryPropertyValues.Empty;

    /// <summary>Sets a property while a registry file is read into a new definition (nothing else may call it).</summary>
    internal void SetWhileReading(RegistryProperty property, object? value) => _properties = _properties.With(property, value);

    /// <summary>The value of a capability's property, or its default when the route does not set it.</summary>
    public T Get<T>(RegistryProperty<T> property) => Properties.Get(property);

    /// <summary>A copy with a capability's property set.</summary>
    public RouteDefinition With<T>(RegistryProperty<T> property, T value) => this with { Properties = Properties.With(property, value) };
}

/// <summary>A named pool of upstream instances.</summary>
public sealed record UpstreamDefinition
{
    /// <summary>Pool name (the entity's RowKey), referenced by routes.</summary>
    public required string Name { get; init; }

    /// <summary>Free-form group label (the entity's PartitionKey).</summary>
    public string Group { get; init; } = RegistryConventions.DefaultGroup;

    /// <summary>The static instances; at least one unless the pool has a discovery source.</summary>
    public IReadOnlyList<UpstreamInstanceDefinition> Instances { get; init; } = [];

    /// <summary>Load-balancing policy name. Default <c>RoundRobin</c>.</summary>
    public string LoadBalancing { get; init; } = RegistryConventions.DefaultLoadBalancing;

    /// <summary>The values of the properties capabilities declare (health checks, circuit breakers, hash keys...).</summary>
    [JsonIgnore]
    public RegistryPropertyValues Properties
    {
        get => _properties;
        init => _properties = value ?? RegistryPropertyValues.Empty;
    }

    private RegistryPropertyValues _properties = RegistryPropertyValues.Empty;

    /// <summary>Sets a property while a registry file is read into a new definition (nothing else may call it).</summary>
    internal void SetWhileReading(RegistryProperty property, object? value) => _properties = _properties.With(property, value);

    /// <summary>The value of a capability's property, or its default when the pool does not set it.</summary>
    public T Get<T>(RegistryProperty<T> property) => Properties.Get(property);

    /// <summary>A copy with a capability's property set.</summary>
    public UpstreamDefinition With<T>(RegistryProperty<T> property, T value) => this with { Properties = Properties.With(property, value) };
}

/// <summary>One upstream instance.</summary>
/// <param name="Url">Absolute http or https base URL; a path in it is prefixed to every forwarded path.</param>
/// <param name="Weight">Relative weight (1–1000), for weighted policies.</param>
public sealed record UpstreamInstanceDefinition(string Url, int Weight = 1);
