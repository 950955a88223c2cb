using FuncGateway.Model;

namespace FuncGateway.Discovery;

/// <summary>
/// What tools that validate a registry without a running gateway (<c>fgw validate</c>, <c>import</c>, <c>list</c>)
/// know of a pool's <c>Discovery</c>: the fields of the built-in kinds (dns, srv, registration) are checked; other
/// kinds come from capabilities a gateway registers and are checked by the gateway when it loads the row. Such a pool
/// compiles with no discovered instance, so it needs no static one.
/// </summary>
internal sealed class OfflineDiscoveryCompiler : IPoolFeatureCompiler
{
    public static OfflineDiscoveryCompiler Instance { get; } = new();

    public object? CompilePool(UpstreamDefinition pool, List<string> errors)
    {
        if (pool.Get(DiscoveryProperties.Discovery) is not { } specification)
        {
            return null;
        }

        var valid = specification.Kind.ToLowerInvariant() switch
        {
            DnsLookup.DnsKind => DnsDiscoverySourceFactory.Parse(specification.Json, errors) is not null,
            DnsLookup.SrvKind => SrvDiscoverySourceFactory.Parse(specification.Json, errors) is not null,
            RegistrationDiscoverySourceFactory.RegistrationKind => RegistrationDiscoverySourceFactory.IsValid(specification.Json, errors),
            _ => true,
        };
        return valid ? NoInstances.Instance : null;
    }

    public object? CompileInstance(InstanceState state, object? poolFeature) => null;

    private sealed class NoInstances : IPoolInstanceSupplier
    {
        public static NoInstances Instance { get; } = new();

        public IReadOnlyList<SuppliedInstance> Instances => [];
    }
}
