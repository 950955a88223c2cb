using FuncGateway.Model;
using FuncGateway.LoadBalancing;

namespace FuncGateway.Core.Tests.LoadBalancing;

public class RoundRobinPolicyTests
{
    [Fact]
    public void Only_the_available_instances_take_turns()
    {
        var pool = TestPools.Create(LoadBalancingPolicies.RoundRobin, TestPools.Instances(3));
        UpstreamInstance[] available = [pool.Instances[0], pool.Instances[2]];

        var counts = TestPools.Distribution(pool, 100, available);

        Assert.Equal([50, 0, 50], pool.Instances.Select(i => counts[i.Url]));
    }

    [Theory]
    [InlineData("roundrobin")]
    [InlineData("WeightedRoundRobin")]
    [InlineData("LeastRequests")]
    [InlineData("ConsistentHash")]
    [InlineData("PowerOfTwoChoices")]
    public void Every_built_in_policy_is_found_by_name_case_insensitively(string name)
    {
        var registry = new LoadBalancingPolicyRegistry([new RoundRobinPolicy()]);

        Assert.True(registry.TryGet(name, out var policy));
        Assert.Equal(name, policy.Name, ignoreCase: true);
        Assert.Equal(5, registry.Names.Count());
    }
}
