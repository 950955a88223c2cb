using FuncGateway.Model;
using System.Collections.Frozen;

namespace FuncGateway.LoadBalancing;

/// <summary>Names of the built-in load-balancing policies (the pool's <c>LoadBalancing</c> property).</summary>
public static class LoadBalancingPolicies
{
    /// <summary>Each available instance in turn, weights ignored. The default.</summary>
    public const string RoundRobin = "RoundRobin";

    /// <summary>Smooth weighted round robin (nginx's): an instance of weight 3 gets 3 of every 4 requests next to one of weight 1, interleaved.</summary>
    public const string WeightedRoundRobin = "WeightedRoundRobin";

    /// <summary>The instance with the fewest requests in flight from this gateway instance, relative to its weight.</summary>
    public const string LeastRequests = "LeastRequests";

    /// <summary>A hash ring over the pool's key (client IP, a header or a claim): the same key keeps its instance; adding or removing an instance moves about 1/N of the keys.</summary>
    public const string ConsistentHash = "ConsistentHash";

    /// <summary>Two instances at random, the one with fewer requests in flight (relative to weight) wins.</summary>
    public const string PowerOfTwoChoices = "PowerOfTwoChoices";
}

/// <summary>
/// The policies known to this gateway, looked up by name (case-insensitive), built once. The built-in policies are
/// always present; a registered policy with the same name replaces the built-in one.
/// </summary>
internal sealed class LoadBalancingPolicyRegistry
{
    private readonly FrozenDictionary<string, ILoadBalancingPolicy> _byName;

    public LoadBalancingPolicyRegistry(IEnumerable<ILoadBalancingPolicy> policies, Random? random = null)
    {
        var byName = new Dictionary<string, ILoadBalancingPolicy>(StringComparer.OrdinalIgnoreCase);
        foreach (var policy in BuiltIn(random ?? Random.Shared))
        {
            byName[policy.Name] = policy;
        }

        foreach (var policy in policies)
        {
            byName[policy.Name] = policy;
        }

        _byName = byName.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
    }

    public IEnumerable<string> Names => _byName.Keys.Order(StringComparer.Ordinal);

    public bool TryGet(string name, out ILoadBalancingPolicy policy) => _byName.TryGetValue(name, out policy!);

    private static ILoadBalancingPolicy[] BuiltIn(Random random) =>
    [
        new RoundRobinPolicy(),
        new WeightedRoundRobinPolicy(),
        new LeastRequestsPolicy(),
        new ConsistentHashPolicy(),
        new PowerOfTwoChoicesPolicy(random),
    ];
}
