using FuncGateway.LoadBalancing;

namespace FuncGateway.Core.Tests.LoadBalancing;

public class LeastRequestsPolicyTests
{
    [Fact]
    public void The_idle_instance_is_preferred()
    {
        var pool = TestPools.Create(LoadBalancingPolicies.LeastRequests, TestPools.Instances(3));
        pool.Instances[0].State.Outstanding = 4;
        pool.Instances[1].State.Outstanding = 0;
        pool.Instances[2].State.Outstanding = 2;

        var counts = TestPools.Distribution(pool, 100);

        Assert.Equal(100, counts[pool.Instances[1].Url]);
    }

    [Fact]
    public void Load_is_compared_relative_to_weight()
    {
        var pool = TestPools.Create(LoadBalancingPolicies.LeastRequests, ("http://small", 1), ("http://big", 4));
        pool.Instances[0].State.Outstanding = 1;
        pool.Instances[1].State.Outstanding = 3;

        // 3/4 < 1/1: the big instance still has room.
        Assert.Equal("http://big", TestPools.Distribution(pool, 1).Single(c => c.Value == 1).Key);
    }

    [Fact]
    public void An_idle_pool_is_spread_evenly_by_rotating_ties()
    {
        var pool = TestPools.Create(LoadBalancingPolicies.LeastRequests, TestPools.Instances(4));

        var counts = TestPools.Distribution(pool, 400);

        Assert.All(counts.Values, c => Assert.Equal(100, c));
    }
}
