using FuncGateway.Model;
using Microsoft.AspNetCore.Http;

namespace FuncGateway.LoadBalancing;

/// <summary>
/// Consistent hashing on a ring of virtual nodes (160 per unit of weight relative to the pool's average, placed by
/// hashing the instance URL): a key goes to the first instance clockwise from its hash that is available. Adding or
/// removing an instance moves only the keys of the ring arcs it gains or loses, about 1/N of them; a key whose
/// instance is down goes to the next instance on the ring and comes back when it recovers. The ring depends only on
/// the URLs and weights, so every gateway instance maps a key the same way.
/// </summary>
internal sealed class ConsistentHashPolicy : ILoadBalancingPolicy, IPoolStatePolicy
{
    internal const int VirtualNodesPerAverageWeight = 160;
    private const int MaxRingSize = 100_000;

    public string Name => LoadBalancingPolicies.ConsistentHash;

    public object CreatePoolState(UpstreamPool pool) => Ring.Build(pool.AllInstances);

    public UpstreamInstance? PickInstance(HttpContext context, UpstreamPool pool, IReadOnlyList<UpstreamInstance> available)
    {
        if (pool.HashKey.Hash(context) is not { } hash)
        {
            // No key at all: nothing to be sticky to, so spread like round robin.
            var next = (uint)Interlocked.Increment(ref pool.RoundRobinCounter) - 1;
            return available[(int)(next % (uint)available.Count)];
        }

        return ((Ring)pool.PolicyState!).Find(hash, available, ReferenceEquals(available, pool.AllInstances));
    }

    internal sealed class Ring
    {
        private readonly ulong[] _points;
        private readonly UpstreamInstance[] _owners;

        private Ring(ulong[] points, UpstreamInstance[] owners)
        {
            _points = points;
            _owners = owners;
        }

        public static Ring Build(IReadOnlyList<UpstreamInstance> instances)
        {
            double totalWeight = 0;
            foreach (var instance in instances)
            {
                totalWeight += instance.Weight;
            }

            var average = instances.Count == 0 ? 1 : totalWeight / instances.Count;
            var perWeight = VirtualNodesPerAverageWeight / average;
            if (perWeight * totalWeight > MaxRingSize)
            {
                perWeight = MaxRingSize / totalWeight;
            }

            var nodes = new List<(ulong Point, UpstreamInstance Owner)>();
            foreach (var instance in instances)
            {
                var count = Math.Max(1, (int)Math.Round(instance.Weight * perWeight));
                for (var i = 0; i < count; i++)
                {
                    nodes.Add((StableHash.Of($"{instance.Url}#{i}"), instance));
                }
            }

            // Ties (practically never) are broken by URL so the ring is the same everywhere.
            nodes.Sort(static (a, b) => a.Point != b.Point ? a.Point.CompareTo(b.Point) : string.CompareOrdinal(a.Owner.Url, b.Owner.Url));
            return new Ring([.. nodes.Select(n => n.Point)], [.. nodes.Select(n => n.Owner)]);
        }

        public UpstreamInstance? Find(ulong hash, IReadOnlyList<UpstreamInstance> available, bool allAvailable)
        {
            if (_points.Length == 0)
            {
                return null;
            }

            var index = Array.BinarySearch(_points, hash);
            if (index < 0)
            {
                index = ~index;
            }

            for (var step = 0; step < _points.Length; step++)
            {
                var owner = _owners[(index + step) % _points.Length];
                if (allAvailable || Contains(available, owner))
                {
                    return owner;
                }
            }

            return null;
        }

        private static bool Contains(IReadOnlyList<UpstreamInstance> available, UpstreamInstance instance)
        {
            for (var i = 0; i < available.Count; i++)
            {
                if (ReferenceEquals(available[i], instance))
                {
                    return true;
                }
            }

            return false;
        }
    }
}
