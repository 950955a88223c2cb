using Microsoft.AspNetCore.Http;

namespace FuncGateway.LoadBalancing;

/// <summary>Chooses the instance of a pool that serves one request.</summary>
public interface ILoadBalancingPolicy
{
    /// <summary>The name routes and pools use to refer to the policy.</summary>
    string Name { get; }

    /// <summary>Picks one of <paramref name="available"/> (never empty), or null to refuse.</summary>
    UpstreamInstance? PickInstance(HttpContext context, UpstreamPool pool, IReadOnlyList<UpstreamInstance> available);
}
