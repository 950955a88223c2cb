using System.Collections.Frozen;

namespace FuncGateway.LoadBalancing;

/// <summary>Names of the built-in load-balancing policies.</summary>
public static class LoadBalancingPolicies
{
    /// <summary>Each instance in turn. The default.</summary>
    public const string RoundRobin = "RoundRobin";
}

/// <summary>The policies known to this gateway, looked up by name (case-insensitive), built once.</summary>
internal sealed class LoadBalancingPolicyRegistry(IEnumerable<ILoadBalancingPolicy> policies)
{
    private readonly FrozenDictionary<string, ILoadBalancingPolicy> _byName =
        policies.ToFrozenDictionary(p => p.Name, StringComparer.OrdinalIgnoreCase);

    public IEnumerable<string> Names => _byName.Keys.Order(StringComparer.Ordinal);

    public bool TryGet(string name, out ILoadBalancingPolicy policy) => _byName.TryGetValue(name, out policy!);
}
