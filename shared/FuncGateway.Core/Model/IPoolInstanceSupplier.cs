namespace FuncGateway.Model;

/// <summary>
/// A pool feature (see <see cref="IPoolFeatureCompiler"/>) that adds instances to the pool's static ones when a
/// snapshot is built: service discovery. A pool with one may have no static instances. Its instances get health
/// checks, breakers and balancing exactly as static ones; a static instance with the same URL wins.
/// </summary>
internal interface IPoolInstanceSupplier
{
    /// <summary>The instances to add, as known when the snapshot is built: normalized absolute URLs, weights 1–1000.</summary>
    IReadOnlyList<UpstreamInstanceDefinition> Instances { get; }
}
