using FuncGateway.Model;

namespace FuncGateway.LoadBalancing;

/// <summary>Compiles a pool's <c>HashKey</c> (what <c>ConsistentHash</c> hashes) into a <see cref="HashKeySelector"/>.</summary>
internal sealed class HashKeyPoolCompiler : IPoolFeatureCompiler
{
    public object? CompilePool(UpstreamDefinition pool, List<string> errors)
    {
        if (pool.Get(LoadBalancingProperties.HashKey) is not { } text)
        {
            return null;
        }

        if (!HashKeySelector.TryParse(text, out var selector, out var error))
        {
            errors.Add(error);
            return null;
        }

        return selector;
    }

    public object? CompileInstance(InstanceState state, object? poolFeature) => null;
}

/// <summary>The hash key of a pool, as load balancing compiled it.</summary>
internal static class PoolHashKeyExtensions
{
    extension(UpstreamPool pool)
    {
        /// <summary>What <c>ConsistentHash</c> hashes (the client address unless the pool says otherwise).</summary>
        public HashKeySelector HashKey => pool.GetFeature<HashKeySelector>() ?? HashKeySelector.ClientIp;
    }
}
