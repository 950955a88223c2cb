using FuncGateway.Model;
using FuncGateway.LoadBalancing;

namespace FuncGateway.Core.Tests.LoadBalancing;

public class WeightedRoundRobinPolicyTests
{
    [Theory]
    [InlineData(new[] { 1, 3, 6 })]
    [InlineData(new[] { 5, 1, 1 })]
    [InlineData(new[] { 100, 250, 650, 999 })]
    [InlineData(new[] { 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97, 101, 103, 107, 109, 113, 127, 131, 137, 139, 149, 151, 157, 163, 167, 173, 179, 181, 191, 193, 197, 199, 211, 223, 227, 229, 233, 239, 241 })]
    public void Over_10000_requests_each_instance_gets_its_weight_within_3_percent(int[] weights)
    {
        var pool = TestPools.Create(LoadBalancingPolicies.WeightedRoundRobin, weights.Select((w, i) => ($"http://10.0.0.{i + 1}:80", w)).ToArray());

        var counts = TestPools.Distribution(pool, 10_000);

        var total = weights.Sum();
        foreach (var instance in pool.Instances)
        {
            var expected = 10_000.0 * instance.Weight / total;
            Assert.InRange(counts[instance.Url], expected * 0.97, expected * 1.03 + 1);
        }
    }

    [Fact]
    public void Picks_are_interleaved_not_bursts()
    {
        var pool = TestPools.Create(LoadBalancingPolicies.WeightedRoundRobin, ("http://a", 5), ("http://b", 1), ("http://c", 1));
        var context = TestPools.Request();

        var sequence = Enumerable.Range(0, 7).Select(_ => pool.Policy.PickInstance(context, pool, pool.AllInstances)!.Url).ToArray();

        // nginx's smooth sequence for 5:1:1 is a a b a c a a: never more than two of the heavy one in a row within a cycle.
        Assert.Equal(["http://a", "http://a", "http://b", "http://a", "http://c", "http://a", "http://a"], sequence);
    }

    [Fact]
    public void An_unavailable_instance_s_share_goes_to_the_others_in_proportion()
    {
        var pool = TestPools.Create(LoadBalancingPolicies.WeightedRoundRobin, ("http://a", 1), ("http://b", 3), ("http://c", 6));
        UpstreamInstance[] available = [pool.Instances[0], pool.Instances[2]];

        var counts = TestPools.Distribution(pool, 7_000, available);

        Assert.Equal(0, counts["http://b"]);
        Assert.InRange(counts["http://a"], 970, 1030);
        Assert.InRange(counts["http://c"], 5820, 6180);
    }

    [Fact]
    public void A_partial_outage_builds_its_cycles_once_however_requests_and_their_retries_alternate()
    {
        // d is out; requests see {a, b, c}, their retries {b, c} after a failed or {a, c} after b failed. Each list is
        // a fresh array, as a pool of more than 64 instances makes them.
        var pool = TestPools.Create(LoadBalancingPolicies.WeightedRoundRobin, ("http://a", 1), ("http://b", 2), ("http://c", 3), ("http://d", 4));
        UpstreamInstance[] Without(params int[] down) => pool.AllInstances.Where((_, i) => !down.Contains(i)).ToArray();
        var first = new[] { Without(3), Without(3, 0), Without(3, 1) }.Select(a => WeightedRoundRobinPolicy.ScheduleFor(pool, a)).ToArray();

        for (var i = 0; i < 5; i++)
        {
            Assert.Same(first[0], WeightedRoundRobinPolicy.ScheduleFor(pool, Without(3)));
            Assert.Same(first[1], WeightedRoundRobinPolicy.ScheduleFor(pool, Without(3, 0)));
            Assert.Same(first[2], WeightedRoundRobinPolicy.ScheduleFor(pool, Without(3, 1)));
        }
    }

    [Fact]
    public void A_subset_the_pool_hands_out_is_found_by_reference_and_keeps_its_exact_shares()
    {
        var pool = TestPools.Create(LoadBalancingPolicies.WeightedRoundRobin, ("http://a", 1), ("http://b", 3), ("http://c", 6), ("http://d", 2));
        var subset = pool.Subset(0b1101);
        Assert.Same(subset, pool.Subset(0b1101));
        Assert.Equal(["http://a", "http://c", "http://d"], subset.Select(i => i.Url));
        var schedule = WeightedRoundRobinPolicy.ScheduleFor(pool, subset);

        // Whole cycles of 1 + 6 + 2: exact shares, from the one cycle built for the subset.
        var counts = TestPools.Distribution(pool, 9 * 1_000, pool.Subset(0b1101));

        Assert.Same(schedule, WeightedRoundRobinPolicy.ScheduleFor(pool, pool.Subset(0b1101)));
        Assert.Equal(1_000, counts["http://a"]);
        Assert.Equal(0, counts["http://b"]);
        Assert.Equal(6_000, counts["http://c"]);
        Assert.Equal(2_000, counts["http://d"]);
    }
}
