using FuncGateway.Model;
using Microsoft.AspNetCore.Http;

namespace FuncGateway.LoadBalancing;

/// <summary>
/// Power of two choices: two different instances at random, the less loaded one (requests in flight relative to
/// weight) wins. Nearly as good as least-requests, without looking at every instance and without herding onto the
/// one that just became idle.
/// </summary>
internal sealed class PowerOfTwoChoicesPolicy(Random random) : ILoadBalancingPolicy
{
    public string Name => LoadBalancingPolicies.PowerOfTwoChoices;

    public UpstreamInstance? PickInstance(HttpContext context, UpstreamPool pool, IReadOnlyList<UpstreamInstance> available)
    {
        var count = available.Count;
        if (count == 1)
        {
            return available[0];
        }

#pragma warning disable CA5394 // Load spreading, not security: a fast non-cryptographic generator is what is wanted.
        var first = random.Next(count);
        var second = random.Next(count - 1);
#pragma warning restore CA5394
        if (second >= first)
        {
            second++;
        }

        var a = available[first];
        var b = available[second];
        return LeastRequestsPolicy.IsLess(b.OutstandingRequests, b.Weight, a.OutstandingRequests, a.Weight) ? b : a;
    }
}
