using FuncGateway.Model;
using Microsoft.AspNetCore.Http;

namespace FuncGateway.LoadBalancing;

/// <summary>
/// The instance with the fewest requests in flight (from this gateway instance), relative to its weight. Ties are
/// broken by a rotating start so that an idle pool is still spread evenly.
/// </summary>
internal sealed class LeastRequestsPolicy : ILoadBalancingPolicy
{
    public string Name => LoadBalancingPolicies.LeastRequests;

    public UpstreamInstance? PickInstance(HttpContext context, UpstreamPool pool, IReadOnlyList<UpstreamInstance> available)
    {
        var count = available.Count;
        if (count == 1)
        {
            return available[0];
        }

        var start = (int)(((uint)Interlocked.Increment(ref pool.RoundRobinCounter) - 1) % (uint)count);
        var best = available[start];
        long bestLoad = best.OutstandingRequests;
        for (var k = 1; k < count; k++)
        {
            var candidate = available[(start + k) % count];
            long load = candidate.OutstandingRequests;
            if (IsLess(load, candidate.Weight, bestLoad, best.Weight))
            {
                best = candidate;
                bestLoad = load;
            }
        }

        return best;
    }

    /// <summary>load/weight &lt; otherLoad/otherWeight, without division.</summary>
    internal static bool IsLess(long load, int weight, long otherLoad, int otherWeight) => load * otherWeight < otherLoad * weight;
}
