namespace FuncGateway.Model;

/// <summary>
/// Compiles the part of a route that one capability owns (authentication, rate limits, retries...) when a snapshot
/// is built, never per request. The result is stored on <c>CompiledRoute</c> and read by that capability's
/// pipeline step with <c>CompiledRoute.GetFeature</c>.
/// </summary>
internal interface IRouteFeatureCompiler
{
    /// <summary>
    /// Returns the per-route object for the capability, or null when the route does not use it. Every problem is
    /// added to <paramref name="errors"/>; any error rejects the row.
    /// </summary>
    object? Compile(RouteDefinition route, List<string> errors);

    /// <summary>
    /// Like <see cref="Compile(RouteDefinition, List{string})"/>, with what the snapshot's own tables compiled to
    /// (<see cref="IRegistryTableCompiler"/>), for a route that names an entry of one (a schema). The snapshot
    /// builder calls this one.
    /// </summary>
    object? Compile(RouteDefinition route, SnapshotTables tables, List<string> errors) => Compile(route, errors);
}

/// <summary>
/// Compiles a registry table a capability owns beside Routes and Upstreams (the Schemas table), once per snapshot,
/// before the routes. A row it cannot compile is rejected with its reasons, like any bad row; the rest are kept.
/// </summary>
internal interface IRegistryTableCompiler
{
    /// <summary>The table whose rows it compiles.</summary>
    RegistryTable Table { get; }

    /// <summary>
    /// Compiles every row of the table; returns the per-snapshot object routes look entries up in. Each refused row
    /// is added to <paramref name="rejected"/>.
    /// </summary>
    object Compile(IReadOnlyList<RegistryRow> rows, List<RejectedRow> rejected);
}

/// <summary>What each <see cref="IRegistryTableCompiler"/> compiled for one snapshot, by type.</summary>
internal sealed class SnapshotTables
{
    private readonly Dictionary<Type, object> _tables = [];

    private SnapshotTables(Dictionary<Type, object> tables, UpstreamResolver upstreams)
    {
        _tables = tables;
        Upstreams = upstreams;
    }

    /// <param name="compiled">What each table compiled to.</param>
    public SnapshotTables(IEnumerable<object> compiled)
    {
        ArgumentNullException.ThrowIfNull(compiled);
        foreach (var table in compiled)
        {
            _tables[table.GetType()] = table;
        }
    }

    /// <summary>
    /// Resolves an upstream name (a pool or an absolute URL) as a route's <c>Upstream</c> is resolved, for a
    /// capability whose route property names upstreams of its own (a composition's parts).
    /// </summary>
    public UpstreamResolver Upstreams { get; } = UpstreamResolver.None;

    /// <summary>The same tables with <paramref name="upstreams"/> resolving upstream names.</summary>
    public SnapshotTables WithUpstreams(UpstreamResolver upstreams) => new(_tables, upstreams);

    /// <summary>No tables (tools and tests that build routes alone).</summary>
    public static SnapshotTables Empty { get; } = new([]);

    /// <summary>What a table compiled to, or null when no compiler of that table is registered.</summary>
    public T? Get<T>()
        where T : class => _tables.TryGetValue(typeof(T), out var table) ? (T)table : null;
}

/// <summary>Resolves an upstream name to the snapshot's pool, adding the reasons it cannot to the errors (null then).</summary>
internal sealed class UpstreamResolver(Func<string, List<string>, UpstreamPool?> resolve)
{
    /// <summary>Resolves nothing: for routes compiled without a snapshot's pools.</summary>
    public static UpstreamResolver None { get; } = new(static (name, errors) =>
    {
        errors.Add($"Upstream '{PrintableText.Of(name)}' cannot be resolved here.");
        return null;
    });

    /// <summary>The pool <paramref name="name"/> names, or null with the reasons in <paramref name="errors"/>.</summary>
    public UpstreamPool? Resolve(string name, List<string> errors) => resolve(name, errors);
}
