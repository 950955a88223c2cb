using FuncGateway.Model;
using Microsoft.AspNetCore.Http;

namespace FuncGateway.LoadBalancing;

/// <summary>
/// Smooth weighted round robin (the nginx algorithm): over every cycle each instance gets exactly its share of the
/// weights, interleaved rather than in bursts. The cycle is computed once when the pool is built, and once per set of
/// available instances seen since (a partial outage, and the sets its retries see), and walked with one Interlocked
/// counter, so picking takes no lock and a steady partial outage builds nothing per request.
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

        var schedule = ScheduleFor(pool, available);
        var next = (uint)Interlocked.Increment(ref pool.RoundRobinCounter) - 1;
        return schedule.Cycle[(int)(next % (uint)schedule.Cycle.Length)];
    }

    /// <summary>The cycle for <paramref name="available"/> (the pool's own list, or a subset of it).</summary>
    internal static Schedule ScheduleFor(UpstreamPool pool, IReadOnlyList<UpstreamInstance> available)
    {
        var state = (State)pool.PolicyState!;
        return ReferenceEquals(available, pool.AllInstances) ? state.Full : state.For(available);
    }

    private sealed class State(Schedule full)
    {
        // Enough for a partial outage's set and the sets its retries see (one per instance tried first) in a small pool.
        private const int Slots = 8;

        // Replaced whole, never written in place: a reader sees one consistent set of cycles without a lock.
        private volatile Schedule[] _partial = [];

        public Schedule Full { get; } = full;

        /// <summary>The cycle for a subset of the instances; built once per subset while it is among the last few seen.</summary>
        public Schedule For(IReadOnlyList<UpstreamInstance> available)
        {
            var partial = _partial;

            // The pool hands out one list object per subset (UpstreamPool.Subset): found by reference, without a compare.
            foreach (var schedule in partial)
            {
                if (ReferenceEquals(schedule.Source, available))
                {
                    return schedule;
                }
            }

            foreach (var schedule in partial)
            {
                if (schedule.IsFor(available))
                {
                    return schedule;
                }
            }

            var built = Schedule.Build(available);
            var kept = new Schedule[Math.Min(partial.Length + 1, Slots)];
            kept[0] = built;
            Array.Copy(partial, 0, kept, 1, kept.Length - 1);
            _partial = kept;
            return built;
        }
    }

    internal sealed class Schedule
    {
        private readonly UpstreamInstance[] _members;

        private Schedule(IReadOnlyList<UpstreamInstance> source, UpstreamInstance[] members, UpstreamInstance[] cycle)
        {
            Source = source;
            _members = members;
            Cycle = cycle;
        }

        /// <summary>The list the cycle was built from.</summary>
        public IReadOnlyList<UpstreamInstance> Source { get; }

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

            return new Schedule(instances, members, cycle);
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
