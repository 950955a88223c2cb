using FuncGateway.Model;
using Microsoft.AspNetCore.Http;

namespace FuncGateway.LoadBalancing;

/// <summary>Hands out the available instances in turn; lock-free, one counter per pool.</summary>
internal sealed class RoundRobinPolicy : ILoadBalancingPolicy
{
    public string Name => LoadBalancingPolicies.RoundRobin;

    public UpstreamInstance? PickInstance(HttpContext context, UpstreamPool pool, IReadOnlyList<UpstreamInstance> available)
    {
        if (available.Count == 1)
        {
            return available[0];
        }

        var next = (uint)Interlocked.Increment(ref pool.RoundRobinCounter) - 1;
        return available[(int)(next % (uint)available.Count)];
    }
}
