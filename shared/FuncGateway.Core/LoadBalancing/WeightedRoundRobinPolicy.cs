using FuncGateway.Model;
using Microsoft.AspNetCore.Http;

namespace FuncGateway.LoadBalancing;

/// <summary>
/// Smooth weighted round robin (the nginx algorithm): over every cycle each instance gets exactly its share of the
/// weights, interleaved rather than in bursts. The cycle is computed once (when the pool is built, and again only when
/// the set of available instances changes) and walked with one Interlocked counter, so picking takes no lock.
/// </summary>
internal sealed class WeightedRoundRobinPolicy : ILoadBalancingPolicy, IPoolStatePolicy
{
    /// <summary>Longest cycle kept; larger weight sums are scaled down (relative error stays below 1/10,000 per weight unit).</summary>
    internal const int MaxCycleLength = 10_000;

    public string Name => LoadBalancingPolicies.WeightedRoundRobin;

    public object CreatePoolState(UpstreamPool pool) => new State(Schedule.Build(pool.AllInstances));

    public UpstreamInstance? PickInstance(HttpContext context, UpstreamPool pool, IReadOnlyList<UpstreamInstance> available)
    {
        if (available.Count == 1)
        {
            return available[0];
        }

        var state = (State)pool.PolicyState!;
        var schedule = ReferenceEquals(available, pool.AllInstances) ? state.Full : state.For(available);
        var next = (uint)Interlocked.Increment(ref pool.RoundRobinCounter) - 1;
        return schedule.Cycle[(int)(next % (uint)schedule.Cycle.Length)];
    }

    private sealed class State(Schedule full)
    {
        private volatile Schedule? _partial;

        public Schedule Full { get; } = full;

        /// <summary>The cycle for a subset of the instances; rebuilt only when the subset changes.</summary>
        public Schedule For(IReadOnlyList<UpstreamInstance> available)
        {
            var partial = _partial;
            if (partial is not null && partial.IsFor(available))
            {
                return partial;
            }

            partial = Schedule.Build(available);
            _partial = partial;
            return partial;
        }
    }

    internal sealed class Schedule
    {
        private readonly UpstreamInstance[] _members;

        private Schedule(UpstreamInstance[] members, UpstreamInstance[] cycle)
        {
            _members = members;
            Cycle = cycle;
        }

        public UpstreamInstance[] Cycle { get; }

        public bool IsFor(IReadOnlyList<UpstreamInstance> available)
        {
            if (available.Count != _members.Length)
            {
                return false;
            }

            for (var i = 0; i < _members.Length; i++)
            {
                if (!ReferenceEquals(available[i], _members[i]))
                {
                    return false;
                }
            }

            return true;
        }

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

            return new Schedule(members, cycle);
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

        private static int Gcd(int a, int b)
        {
            while (b != 0)
            {
                (a, b) = (b, a % b);
            }

            return a;
        }
    }
}
