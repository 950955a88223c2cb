using System.ComponentModel.DataAnnotations;

namespace FuncGateway.Discovery;

/// <summary>Settings under <c>FuncGateway:Discovery</c> (app settings <c>FuncGateway__Discovery__...</c>), see docs/discovery.md.</summary>
public sealed class DiscoveryOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "FuncGateway:Discovery";

    /// <summary>The default of <see cref="MaxInstancesPerPool"/>.</summary>
    public const int DefaultMaxInstancesPerPool = 1000;

    /// <summary>
    /// The most instances a source may give one pool; more are left out (the first ones by URL are kept), and the
    /// registration API refuses a new instance id into a pool that has this many live registrations.
    /// </summary>
    [Range(1, 10000)]
    public int MaxInstancesPerPool { get; set; } = DefaultMaxInstancesPerPool;

    /// <summary>The <c>dns</c> and <c>srv</c> sources.</summary>
    public DnsDiscoveryOptions Dns { get; set; } = new();

    /// <summary>The <c>registration</c> source and the admin API instances register through.</summary>
    public RegistrationDiscoveryOptions Registration { get; set; } = new();
}

/// <summary>Settings under <c>FuncGateway:Discovery:Dns</c>.</summary>
public sealed class DnsDiscoveryOptions
{
    /// <summary>
    /// Comma-separated DNS servers, <c>address</c> or <c>address:port</c> (<c>[v6]:port</c>); empty: the system's
    /// resolvers.
    /// </summary>
    public string? Servers { get; set; }

    /// <summary>The shortest time between two lookups of a name, whatever its records' TTL.</summary>
    [Range(1, 3600)]
    public int MinTtlSeconds { get; set; } = 5;

    /// <summary>The longest time between two lookups of a name, whatever its records' TTL.</summary>
    [Range(1, 86400)]
    public int MaxTtlSeconds { get; set; } = 300;

    /// <summary>How long one query waits for an answer (each server is tried once more before the lookup fails).</summary>
    [Range(1, 60)]
    public int TimeoutSeconds { get; set; } = 3;
}

/// <summary>Settings under <c>FuncGateway:Discovery:Registration</c>.</summary>
public sealed class RegistrationDiscoveryOptions
{
    /// <summary>How often every gateway instance reads the registrations of each pool; a lapsed lease leaves within one interval.</summary>
    [Range(1, 3600)]
    public int RefreshSeconds { get; set; } = 10;

    /// <summary>The lease of a registration through the admin API that names none.</summary>
    [Range(5, 86400)]
    public int DefaultLeaseSeconds { get; set; } = 30;

    /// <summary>The longest lease the admin API grants.</summary>
    [Range(5, 86400)]
    public int MaxLeaseSeconds { get; set; } = 3600;

    /// <summary>
    /// Registration keys by name (<c>FuncGateway:Discovery:Registration:Keys:&lt;name&gt;</c>): each is accepted in
    /// <c>X-Admin-Key</c> for registering and deregistering instances of its own pools, and for nothing else.
    /// </summary>
    public Dictionary<string, RegistrationKeyOptions> Keys { get; } = new(StringComparer.OrdinalIgnoreCase);
}

/// <summary>One registration key, <c>FuncGateway:Discovery:Registration:Keys:&lt;name&gt;</c>.</summary>
public sealed class RegistrationKeyOptions
{
    /// <summary>The secret, at least <see cref="RegistrationKeys.MinKeyLength"/> characters; a Key Vault reference in Azure.</summary>
    public string? Key { get; set; }

    /// <summary>Comma-separated names of the pools the key may register instances into (required; no wildcard).</summary>
    public string? Pools { get; set; }
}
