using System.Collections.Immutable;

namespace FuncGateway.LoadBalancing;

/// <summary>A compiled upstream pool: its instances and the policy that chooses among them.</summary>
public sealed class UpstreamPool
{
    internal UpstreamPool(string name, ImmutableArray<UpstreamInstance> instances, ILoadBalancingPolicy policy)
    {
        Name = name;
        Instances = instances;
        Policy = policy;
    }

    /// <summary>The pool's name, or the URL of a route's single inline upstream.</summary>
    public string Name { get; }

    /// <summary>Every instance of the pool.</summary>
    public ImmutableArray<UpstreamInstance> Instances { get; }

    /// <summary>How an instance is chosen.</summary>
    public ILoadBalancingPolicy Policy { get; }

    /// <summary>Round-robin position; a field so policies can update it with Interlocked.</summary>
    internal int RoundRobinCounter;
}

/// <summary>One upstream instance.</summary>
/// <param name="Url">The destination prefix: scheme, authority and optional base path.</param>
/// <param name="Weight">Relative weight for weighted policies.</param>
public sealed record UpstreamInstance(string Url, int Weight);
