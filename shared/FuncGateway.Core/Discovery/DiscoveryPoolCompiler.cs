using FuncGateway.Model;

namespace FuncGateway.Discovery;

/// <summary>Compiles a pool's <c>Discovery</c> into its <see cref="PoolDiscovery"/>: the instances its source found so far.</summary>
internal sealed class DiscoveryPoolCompiler(DiscoveryPools pools) : IPoolFeatureCompiler
{
    public object? CompilePool(UpstreamDefinition pool, List<string> errors) =>
        pool.Get(DiscoveryProperties.Discovery) is { } specification ? pools.Attach(pool.Name, specification, errors) : null;

    public object? CompileInstance(InstanceState state, object? poolFeature) => null;
}

/// <summary>The discovery of a pool, as compiled into the snapshot.</summary>
internal static class PoolDiscoveryExtensions
{
    extension(UpstreamPool pool)
    {
        /// <summary>The pool's discovery source and what it found, or null for a pool of static instances only.</summary>
        public PoolDiscovery? Discovery => pool.GetFeature<PoolDiscovery>();
    }
}
