using FuncGateway.Model;
using Microsoft.AspNetCore.Http;

namespace FuncGateway.LoadBalancing;

/// <summary>
/// Weighted round robin. With every instance available: smooth weighted round robin (the nginx algorithm), a cycle
/// built once when the pool is built, in which each instance gets exactly its share of the weights, interleaved
/// rather than in bursts. With a subset available (a partial outage, or a retry excluding the instances tried): no
/// cycle is built; the pick is computed from the counter in two passes over the subset (see <see cref="PickFromSubset"/>),
/// exact over every run of consecutive picks as long as the subset's weight sum. Either way one Interlocked counter
/// (one for whole-pool picks, one for subset picks), no lock and no allocation per request, and a cost per pick that does not depend on which subsets requests saw before.
/// </summary>
internal sealed class WeightedRoundRobinPolicy : ILoadBalancingPolicy, IPoolStatePolicy
{
    /// <summary>Longest cycle kept; larger weight sums are scaled down (relative error stays below 1/10,000 per weight unit).</summary>
    internal const int MaxCycleLength = 10_000;

    // 1/φ: a stride of about this share of the weight sum spreads consecutive picks evenly (three-distance theorem).
    private const double GoldenRatioConjugate = 0.6180339887498949;

    public string Name => LoadBalancingPolicies.WeightedRoundRobin;

    public object CreatePoolState(UpstreamPool pool) => Schedule.Build(pool.AllInstances);

    public UpstreamInstance? PickInstance(HttpContext context, UpstreamPool pool, IReadOnlyList<UpstreamInstance> available)
    {
        if (available.Count == 1)
        {
            return available[0];
        }

        if (ReferenceEquals(available, pool.AllInstances))
        {
            var cycle = ((Schedule)pool.PolicyState!).Cycle;
            var next = (uint)Interlocked.Increment(ref pool.RoundRobinCounter) - 1;
            return cycle[(int)(next % (uint)cycle.Length)];
        }

        // A counter of its own: when every first attempt takes the whole pool and only retries a subset, the subset's
        // picks still walk its sequence one step at a time (on the shared counter they hit the same few slots).
        return PickFromSubset(available, (uint)Interlocked.Increment(ref pool.SubsetCounter) - 1);
    }

    /// <summary>
    /// The <paramref name="counter"/>-th pick among <paramref name="available"/>: the weights (reduced by their greatest
    /// common divisor, sum W) lay the instances side by side on slots 0..W-1, and the pick is the instance on slot
    /// <c>(counter mod W) × stride mod W</c>, with a stride coprime to W near W/φ. Multiplying by a number coprime to W
    /// permutes the slots, so every W consecutive counters give each instance exactly its weight; the golden-ratio
    /// stride scatters them, so an instance's picks are spread out rather than in bursts. O(instances) per pick.
    /// </summary>
    internal static UpstreamInstance PickFromSubset(IReadOnlyList<UpstreamInstance> available, uint counter)
    {
        var count = available.Count;
        long total = 0;
        var gcd = 0;
        for (var i = 0; i < count; i++)
        {
            var weight = Math.Max(1, available[i].Weight);
            total += weight;
            gcd = Gcd(gcd, weight);
        }

        total /= gcd;
        var slot = (long)((UInt128)(counter % (ulong)total) * (ulong)Stride(total) % (ulong)total);
        for (var i = 0; i < count; i++)
        {
            slot -= Math.Max(1, available[i].Weight) / gcd;
            if (slot < 0)
            {
                return available[i];
            }
        }

        return available[count - 1];
    }

    /// <summary>The number nearest above W/φ that is coprime to W (a handful of steps: coprimes are dense).</summary>
    internal static long Stride(long total)
    {
        var stride = Math.Max(1, (long)(total * GoldenRatioConjugate));
        while (Gcd(stride, total) != 1)
        {
            stride++;
        }

        return stride;
    }

    private static int Gcd(int a, int b)
    {
        while (b != 0)
        {
            (a, b) = (b, a % b);
        }

        return a;
    }

    private static long Gcd(long a, long b)
    {
        while (b != 0)
        {
            (a, b) = (b, a % b);
        }

        return a;
    }

    /// <summary>The nginx cycle for the whole pool, built once per pool.</summary>
    internal sealed class Schedule
    {
        private Schedule(UpstreamInstance[] cycle) => Cycle = cycle;

        public UpstreamInstance[] Cycle { get; }

        public static Schedule Build(IReadOnlyList<UpstreamInstance> instances)
        {
            var members = instances.ToArray();
            var weights = Weights(members);
            var total = 0;
            foreach (var w in weights)
            {
                total += w;
            }

            // nginx: every step each instance gains its weight; the one with the most credit is picked and pays the total.
            var current = new long[members.Length];
            var cycle = new UpstreamInstance[total];
            for (var step = 0; step < total; step++)
            {
                var best = 0;
                for (var i = 0; i < members.Length; i++)
                {
                    current[i] += weights[i];
                    if (current[i] > current[best])
                    {
                        best = i;
                    }
                }

                current[best] -= total;
                cycle[step] = members[best];
            }

            return new Schedule(cycle);
        }

        /// <summary>The weights reduced by their greatest common divisor and, if still too long a cycle, scaled down.</summary>
        private static int[] Weights(UpstreamInstance[] members)
        {
            var weights = new int[members.Length];
            var gcd = 0;
            long total = 0;
            for (var i = 0; i < members.Length; i++)
            {
                weights[i] = Math.Max(1, members[i].Weight);
                gcd = Gcd(gcd, weights[i]);
            }

            for (var i = 0; i < weights.Length; i++)
            {
                weights[i] /= gcd;
                total += weights[i];
            }

            if (total > MaxCycleLength)
            {
                var scale = (double)MaxCycleLength / total;
                for (var i = 0; i < weights.Length; i++)
                {
                    weights[i] = Math.Max(1, (int)Math.Round(weights[i] * scale));
                }
            }

            return weights;
        }
    }
}
