using Microsoft.AspNetCore.Http;

namespace FuncGateway.Model;

/// <summary>Chooses the instance of a pool that serves one request.</summary>
public interface ILoadBalancingPolicy
{
    /// <summary>The name routes and pools use to refer to the policy.</summary>
    string Name { get; }

    /// <summary>
    /// Picks one of <paramref name="available"/> (never empty: the instances that are healthy, whose circuit lets
    /// requests through and that this request has not tried yet), or null to refuse.
    /// </summary>
    UpstreamInstance? PickInstance(HttpContext context, UpstreamPool pool, IReadOnlyList<UpstreamInstance> available);
}

/// <summary>A policy that prepares per-pool state (a ring, a schedule) once, when the pool is built.</summary>
internal interface IPoolStatePolicy
{
    /// <summary>Builds the state for <paramref name="pool"/>; stored as <see cref="UpstreamPool.PolicyState"/>.</summary>
    object CreatePoolState(UpstreamPool pool);
}
