using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Collections.Immutable;
using System.Numerics;

namespace FuncGateway.Model;

/// <summary>
/// A compiled upstream pool: its instances, the policy that chooses among them, and what capabilities compiled for
/// it (a health check, a hash key...; see <see cref="IPoolFeatureCompiler"/>). Built once per snapshot; the
/// per-instance state it points to (breakers, health, outstanding requests) outlives snapshots while the instance
/// stays the same.
/// </summary>
public sealed class UpstreamPool
{
    private readonly FrozenDictionary<Type, object> _features;

    internal UpstreamPool(
        string name,
        ImmutableArray<UpstreamInstance> instances,
        ILoadBalancingPolicy policy,
        FrozenDictionary<Type, object>? features = null,
        bool isInline = false)
    {
        Name = name;
        Instances = instances;
        Policy = policy;
        IsInline = isInline;
        _features = features ?? FrozenDictionary<Type, object>.Empty;
        AllInstances = [.. instances];
        PolicyState = policy is IPoolStatePolicy stateful ? stateful.CreatePoolState(this) : null;
    }

    /// <summary>The pool's name, or the URL of a route's single inline upstream.</summary>
    public string Name { get; }

    /// <summary>Every instance of the pool.</summary>
    public ImmutableArray<UpstreamInstance> Instances { get; }

    /// <summary>How an instance is chosen.</summary>
    public ILoadBalancingPolicy Policy { get; }

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

    /// <summary>
    /// Position for picks among a subset of the instances (<c>WeightedRoundRobin</c>), apart from <see cref="RoundRobinCounter"/>:
    /// retries interleaved with first attempts would otherwise see only some positions of the subset's sequence.
    /// </summary>
    internal int SubsetCounter;

    /// <summary>Most subsets kept per pool (<see cref="Subset"/>); others are made per request.</summary>
    internal const int MaxCachedSubsets = 64;

    // Subsets of AllInstances by bit mask of their positions, made on first use: a steady partial outage (and the
    // retries within it) hands out the same list objects instead of a new array per request.
    private ConcurrentDictionary<ulong, UpstreamInstance[]>? _subsets;
    private int _subsetCount;

    /// <summary>
    /// The instances at the positions set in <paramref name="mask"/> (bit i: <c>AllInstances[i]</c>; pools of at most 64
    /// instances), in pool order: the same list object every time for the same mask, while the pool keeps at most
    /// <see cref="MaxCachedSubsets"/> of them.
    /// </summary>
    internal UpstreamInstance[] Subset(ulong mask)
    {
        var subsets = Volatile.Read(ref _subsets);
        if (subsets is not null && subsets.TryGetValue(mask, out var subset))
        {
            return subset;
        }

        subset = new UpstreamInstance[BitOperations.PopCount(mask)];
        var i = 0;
        for (var bits = mask; bits != 0; bits &= bits - 1)
        {
            subset[i++] = AllInstances[BitOperations.TrailingZeroCount(bits)];
        }

        if (Volatile.Read(ref _subsetCount) < MaxCachedSubsets)
        {
            subsets ??= Interlocked.CompareExchange(ref _subsets, new ConcurrentDictionary<ulong, UpstreamInstance[]>(), null) ?? _subsets;
            if (subsets.TryAdd(mask, subset))
            {
                Interlocked.Increment(ref _subsetCount);
            }
            else
            {
                subset = subsets[mask];
            }
        }

        return subset;
    }

    /// <summary>What a capability compiled for this pool, or null.</summary>
    public T? GetFeature<T>()
        where T : class => _features.TryGetValue(typeof(T), out var feature) ? (T)feature : null;
}

/// <summary>One upstream instance of a compiled pool.</summary>
public sealed class UpstreamInstance
{
    private readonly FrozenDictionary<Type, object> _features;

    internal UpstreamInstance(
        string url, int weight, InstanceState state, ImmutableArray<IInstanceGate> gates = default, FrozenDictionary<Type, object>? features = null, int priority = 0)
    {
        Url = url;
        Weight = weight;
        Priority = priority;
        State = state;
        Gates = gates.IsDefault ? [] : gates;
        _features = features ?? FrozenDictionary<Type, object>.Empty;
    }

    /// <summary>The destination prefix: scheme, authority and optional base path.</summary>
    public string Url { get; }

    /// <summary>Relative weight for weighted policies.</summary>
    public int Weight { get; }

    /// <summary>
    /// Lower is preferred (0–65535; 0 for static instances): the pool offers a request to an instance of a higher value
    /// only when no instance of a lower one may take it (unhealthy, circuit open, or already tried by this request).
    /// </summary>
    public int Priority { get; }

    /// <summary>Outstanding requests and what capabilities keep per instance, shared by every snapshot that has this instance.</summary>
    internal InstanceState State { get; }

    /// <summary>What decides whether the instance may take a request now (a circuit breaker, an active health check...).</summary>
    public ImmutableArray<IInstanceGate> Gates { get; }

    /// <summary>Requests in flight to this instance from this gateway instance.</summary>
    internal int OutstandingRequests => Volatile.Read(ref State.Outstanding);

    /// <summary>True when every gate lets a request through now.</summary>
    internal bool IsAvailable(long nowUtcTicks)
    {
        foreach (var gate in Gates)
        {
            if (!gate.Allows(nowUtcTicks))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>How long until every gate may let a request through again (zero when the instance is available).</summary>
    internal TimeSpan RetryAfter(long nowUtcTicks)
    {
        var wait = TimeSpan.Zero;
        foreach (var gate in Gates)
        {
            var gateWait = gate.RetryAfter(nowUtcTicks);
            wait = gateWait > wait ? gateWait : wait;
        }

        return wait;
    }

    /// <summary>What a capability compiled for this instance (its breaker, its health cell...), or null.</summary>
    public T? GetFeature<T>()
        where T : class => _features.TryGetValue(typeof(T), out var feature) ? (T)feature : null;

    /// <inheritdoc/>
    public override string ToString() => Url;
}

/// <summary>One reason an instance may not take requests: a circuit breaker, an active health check.</summary>
public interface IInstanceGate
{
    /// <summary>True when the instance may get a request now.</summary>
    bool Allows(long nowUtcTicks);

    /// <summary>How long until the gate may let requests through (zero when it does); a client's Retry-After.</summary>
    TimeSpan RetryAfter(long nowUtcTicks);
}

/// <summary>
/// Compiles the part of an upstream pool that one capability owns (health checks, circuit breakers, hash keys)
/// when a snapshot is built. Registered in DI by the capability; the snapshot builder calls every one.
/// </summary>
public interface IPoolFeatureCompiler
{
    /// <summary>
    /// The pool-level object for the capability (stored on the pool), or null when the pool does not use it. Every
    /// problem is added to <paramref name="errors"/>; any error rejects the row. <paramref name="pool"/> is a
    /// definition without properties for a route's inline URL upstream.
    /// </summary>
    object? CompilePool(UpstreamDefinition pool, List<string> errors);

    /// <summary>
    /// What the capability attaches to one instance: a gate and/or a feature object (or null). Called under the
    /// instance registry's lock, so state kept in <paramref name="state"/> can be created or replaced safely.
    /// </summary>
    object? CompileInstance(InstanceState state, object? poolFeature);
}
