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
    public void Picks_in_a_partial_outage_whose_retries_keep_making_new_subsets_build_nothing_per_request()
    {
        // Twelve instances with a large weight sum; a request sees one of twelve subsets (each without a different
        // instance, as the retries of a partial outage do), in turn. A cycle per subset (or per last few subsets) would
        // be rebuilt here on every pick: up to 10,000 steps and an 80 kB array each.
        var pool = TestPools.Create(LoadBalancingPolicies.WeightedRoundRobin, Enumerable.Range(0, 12).Select(i => ($"http://10.0.0.{i + 1}:80", 1000 - (i * 7))).ToArray());
        var subsets = Enumerable.Range(0, 12).Select(down => pool.Subset(((1UL << 12) - 1) & ~(1UL << down))).ToArray();
        var context = TestPools.Request();
        foreach (var subset in subsets)
        {
            Assert.NotNull(pool.Policy.PickInstance(context, pool, subset));
        }

        var picks = new UpstreamInstance?[1_200];
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < picks.Length; i++)
        {
            picks[i] = pool.Policy.PickInstance(context, pool, subsets[i % subsets.Length]);
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.InRange(allocated, 0, 1_024);
        for (var i = 0; i < picks.Length; i++)
        {
            Assert.Contains(picks[i]!, subsets[i % subsets.Length]);
        }
    }

    [Theory]
    [InlineData(new[] { 1, 3 })]
    [InlineData(new[] { 1, 6, 2 })]
    [InlineData(new[] { 4, 4, 8 })]
    [InlineData(new[] { 1000, 999, 7, 1 })]
    public void A_subset_gets_exact_shares_over_every_run_as_long_as_its_weight_sum(int[] weights)
    {
        // The subset is the pool without its last instance (weight 5), as a partial outage hands it to the policy.
        var pool = TestPools.Create(LoadBalancingPolicies.WeightedRoundRobin, weights.Append(5).Select((w, i) => ($"http://10.0.0.{i + 1}:80", w)).ToArray());
        var subset = pool.AllInstances[..^1];
        var gcd = weights.Aggregate(0, (a, b) => b == 0 ? a : (int)System.Numerics.BigInteger.GreatestCommonDivisor(a, b));
        var total = weights.Sum() / gcd;

        // Every window of `total` consecutive picks, wherever it starts.
        for (var start = 0u; start < 3 * (uint)total; start += (uint)Math.Max(1, total / 7))
        {
            var counts = new int[weights.Length];
            for (var c = start; c < start + total; c++)
            {
                counts[Array.IndexOf(pool.AllInstances, WeightedRoundRobinPolicy.PickFromSubset(subset, c))]++;
            }

            Assert.Equal(weights.Select(w => w / gcd), counts);
        }
    }

    [Fact]
    public void A_subset_s_picks_are_interleaved_not_bursts()
    {
        var pool = TestPools.Create(LoadBalancingPolicies.WeightedRoundRobin, ("http://light", 1), ("http://heavy", 3), ("http://down", 4));
        var subset = pool.AllInstances[..2];

        var sequence = string.Join(",", Enumerable.Range(0, 400).Select(_ => pool.Policy.PickInstance(TestPools.Request(), pool, subset)!.Url));

        // 1 : 3, one light in every four in a row: never four of the heavy one together.
        Assert.DoesNotContain("http://heavy,http://heavy,http://heavy,http://heavy", sequence, StringComparison.Ordinal);
        Assert.Equal(100, sequence.Split(',').Count(u => u == "http://light"));
    }

    [Fact]
    public void A_subset_the_pool_hands_out_keeps_its_exact_shares()
    {
        var pool = TestPools.Create(LoadBalancingPolicies.WeightedRoundRobin, ("http://a", 1), ("http://b", 3), ("http://c", 6), ("http://d", 2));
        var subset = pool.Subset(0b1101);
        Assert.Equal(["http://a", "http://c", "http://d"], subset.Select(i => i.Url));

        // Whole runs of 1 + 6 + 2: exact shares.
        var counts = TestPools.Distribution(pool, 9 * 1_000, pool.Subset(0b1101));

        Assert.Equal(1_000, counts["http://a"]);
        Assert.Equal(0, counts["http://b"]);
        Assert.Equal(6_000, counts["http://c"]);
        Assert.Equal(2_000, counts["http://d"]);
    }
}
