using FuncGateway.LoadBalancing;

namespace FuncGateway.Core.Tests.LoadBalancing;

public class PowerOfTwoChoicesPolicyTests
{
    [Fact]
    public void Of_two_instances_the_less_loaded_always_wins()
    {
        var pool = TestPools.Create(LoadBalancingPolicies.PowerOfTwoChoices, TestPools.Instances(2));
        pool.Instances[0].State.Outstanding = 3;

        var counts = TestPools.Distribution(pool, 200);

        Assert.Equal(200, counts[pool.Instances[1].Url]);
    }

    [Fact]
    public void The_busiest_instance_is_never_chosen_and_idle_ones_share_the_load()
    {
        var pool = TestPools.Create(LoadBalancingPolicies.PowerOfTwoChoices, TestPools.Instances(5));
        pool.Instances[0].State.Outstanding = 10;
        for (var i = 1; i < 5; i++)
        {
            pool.Instances[i].State.Outstanding = 1;
        }

        var counts = TestPools.Distribution(pool, 4_000);

        Assert.Equal(0, counts[pool.Instances[0].Url]);
        Assert.All(pool.Instances.Skip(1), i => Assert.InRange(counts[i.Url], 700, 1300));
    }
}
