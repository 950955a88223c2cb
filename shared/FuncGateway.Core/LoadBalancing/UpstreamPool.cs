using System.Collections.Immutable;
using FuncGateway.Health;
using FuncGateway.Resilience;

namespace FuncGateway.LoadBalancing;

/// <summary>
/// A compiled upstream pool: its instances, the policy that chooses among them and the health settings that take
/// instances out of rotation. Built once per snapshot; the per-instance state it points to (breakers, health,
/// outstanding requests) outlives snapshots while the instance stays the same.
/// </summary>
public sealed class UpstreamPool
{
    internal UpstreamPool(
        string name,
        ImmutableArray<UpstreamInstance> instances,
        ILoadBalancingPolicy policy,
        HealthCheckSettings? healthCheck = null,
        HashKeySelector? hashKey = null,
        bool isInline = false)
    {
        Name = name;
        Instances = instances;
        Policy = policy;
        HealthCheck = healthCheck;
        HashKey = hashKey ?? HashKeySelector.ClientIp;
        IsInline = isInline;
        AllInstances = [.. instances];
        PolicyState = policy is IPoolStatePolicy stateful ? stateful.CreatePoolState(this) : null;
    }

    /// <summary>The pool's name, or the URL of a route's single inline upstream.</summary>
    public string Name { get; }

    /// <summary>Every instance of the pool.</summary>
    public ImmutableArray<UpstreamInstance> Instances { get; }

    /// <summary>How an instance is chosen.</summary>
    public ILoadBalancingPolicy Policy { get; }

    /// <summary>Active health checking of the pool's instances; null when the pool is not probed.</summary>
    internal HealthCheckSettings? HealthCheck { get; }

    /// <summary>What <c>ConsistentHash</c> hashes.</summary>
    internal HashKeySelector HashKey { get; }

    /// <summary>True for the one-instance pool of a route whose upstream is a URL.</summary>
    internal bool IsInline { get; }

    /// <summary>
    /// The instances as one list object, handed to policies as "all available" without allocating; policies may
    /// compare it by reference to recognise the full set.
    /// </summary>
    internal UpstreamInstance[] AllInstances { get; }

    /// <summary>State the pool's policy prepared when the pool was built (a hash ring, a weighted schedule).</summary>
    internal object? PolicyState { get; }

    /// <summary>Round-robin position; a field so policies can update it with Interlocked.</summary>
    internal int RoundRobinCounter;
}

/// <summary>One upstream instance of a compiled pool.</summary>
public sealed class UpstreamInstance
{
    internal UpstreamInstance(string url, int weight, InstanceState state, InstanceBreaker breaker, HealthCheckSettings? healthCheck)
    {
        Url = url;
        Weight = weight;
        State = state;
        Breaker = breaker;
        HealthCheck = healthCheck;
    }

    /// <summary>The destination prefix: scheme, authority and optional base path.</summary>
    public string Url { get; }

    /// <summary>Relative weight for weighted policies.</summary>
    public int Weight { get; }

    /// <summary>Outstanding requests and the last health result, shared by every snapshot that has this instance.</summary>
    internal InstanceState State { get; }

    /// <summary>The instance's circuit breaker (shared across snapshots while its settings stay the same).</summary>
    internal InstanceBreaker Breaker { get; }

    internal HealthCheckSettings? HealthCheck { get; }

    /// <summary>Requests in flight to this instance from this gateway instance.</summary>
    internal int OutstandingRequests => Volatile.Read(ref State.Outstanding);

    /// <summary>
    /// True when the instance may get a request now: the last health probe (if the pool is probed, and the result is
    /// not stale) did not mark it down, and its circuit is closed or due for a half-open probe.
    /// </summary>
    internal bool IsAvailable(long nowUtcTicks) => Breaker.Allows(nowUtcTicks) && State.ActiveHealthAllows(nowUtcTicks, HealthCheck);

    /// <inheritdoc/>
    public override string ToString() => Url;
}
