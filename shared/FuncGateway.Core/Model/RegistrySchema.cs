using System.Collections.Frozen;
using System.Collections.Immutable;

namespace FuncGateway.Model;

/// <summary>
/// Every property a route or upstream entity may have: the core's own (path, upstream, instances...) and the ones
/// the registered capabilities declare, in registration order. The set is the allowlist: a property outside it
/// rejects the row.
/// </summary>
public sealed class RegistrySchema
{
    /// <param name="coreRouteProperties">The route properties the core reads itself.</param>
    /// <param name="coreUpstreamProperties">The upstream properties the core reads itself.</param>
    /// <param name="properties">The capabilities' properties, in the order files list them.</param>
    public RegistrySchema(IEnumerable<string> coreRouteProperties, IEnumerable<string> coreUpstreamProperties, IEnumerable<RegistryProperty> properties)
    {
        ArgumentNullException.ThrowIfNull(properties);
        var all = properties.ToImmutableArray();
        RouteProperties = [.. all.Where(static p => p.Table == RegistryTable.Routes)];
        UpstreamProperties = [.. all.Where(static p => p.Table == RegistryTable.Upstreams)];
        RouteNames = Names(coreRouteProperties, RouteProperties);
        UpstreamNames = Names(coreUpstreamProperties, UpstreamProperties);
    }

    /// <summary>The capabilities' route properties, in registration order.</summary>
    public ImmutableArray<RegistryProperty> RouteProperties { get; }

    /// <summary>The capabilities' upstream properties, in registration order.</summary>
    public ImmutableArray<RegistryProperty> UpstreamProperties { get; }

    /// <summary>Every route entity property name (core and capabilities).</summary>
    public FrozenSet<string> RouteNames { get; }

    /// <summary>Every upstream entity property name (core and capabilities).</summary>
    public FrozenSet<string> UpstreamNames { get; }

    /// <summary>The capabilities' properties of one table.</summary>
    public ImmutableArray<RegistryProperty> For(RegistryTable table) => table == RegistryTable.Routes ? RouteProperties : UpstreamProperties;

    private static FrozenSet<string> Names(IEnumerable<string> core, ImmutableArray<RegistryProperty> properties)
    {
        var names = new HashSet<string>(core, StringComparer.Ordinal);
        foreach (var property in properties)
        {
            if (!names.Add(property.Name))
            {
                throw new InvalidOperationException($"Two registry properties are named '{property.Name}' ({property.Table}).");
            }
        }

        return names.ToFrozenSet(StringComparer.Ordinal);
    }
}
