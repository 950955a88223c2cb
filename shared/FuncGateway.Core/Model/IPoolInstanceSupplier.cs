namespace FuncGateway.Model;

/// <summary>
/// A pool feature (see <see cref="IPoolFeatureCompiler"/>) that adds instances to the pool's static ones when a
/// snapshot is built: service discovery. A pool with one may have no static instances. Its instances get health
/// checks, breakers and balancing exactly as static ones; a static instance with the same URL wins.
/// </summary>
internal interface IPoolInstanceSupplier
{
    /// <summary>The instances to add, as known when the snapshot is built: normalized absolute URLs, weights 1–1000.</summary>
    IReadOnlyList<SuppliedInstance> Instances { get; }
}

/// <summary>An instance an <see cref="IPoolInstanceSupplier"/> adds to a pool.</summary>
/// <param name="Url">Normalized absolute http or https base URL.</param>
/// <param name="Weight">Relative weight (1–1000), for weighted policies.</param>
/// <param name="Priority">
/// Lower is preferred (0–65535; static instances are 0): the pool sends a request to an instance of a higher value only
/// when no instance of a lower one may take it (unhealthy, circuit open, or already tried by this request). Set by
/// discovery sources that have priorities (SRV).
/// </param>
internal sealed record SuppliedInstance(string Url, int Weight = 1, int Priority = 0);
