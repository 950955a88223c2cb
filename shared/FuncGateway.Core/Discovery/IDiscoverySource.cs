using System.Text.Json;

namespace FuncGateway.Discovery;

/// <summary>
/// One instance a discovery source found: an absolute base URL, its relative weight (1–1000) and its priority (0–65535,
/// lower preferred: instances of a higher value take requests only when none of a lower value may; see
/// <see cref="Model.UpstreamInstance.Priority"/>).
/// </summary>
public sealed record DiscoveredInstance(string Url, int Weight = 1, int Priority = 0);

/// <summary>
/// Finds the instances of one upstream pool (DNS, SRV, Consul, Kubernetes EndpointSlices, self-registration).
/// One source object per pool whose <c>Discovery</c> property names its kind; created by the matching
/// <see cref="IDiscoverySourceFactory"/> when a snapshot is built, started by the discovery service, and disposed
/// when the pool's discovery specification changes or the pool goes away.
/// </summary>
public interface IDiscoverySource : IAsyncDisposable
{
    /// <summary>
    /// Watches until <paramref name="cancellationToken"/> is cancelled. Calls <paramref name="publish"/> with the
    /// complete current instance list once it is first known and again whenever it changes. While the backing
    /// service is unreachable it keeps the last list (it does not publish), logs the outage once and the recovery
    /// once, and retries with backoff; it never throws except on cancellation.
    /// </summary>
    Task WatchAsync(Func<IReadOnlyList<DiscoveredInstance>, ValueTask> publish, CancellationToken cancellationToken);
}

/// <summary>
/// Makes the discovery source of one kind (its <see cref="Kind"/> is the <c>Source</c> field of a pool's
/// <c>Discovery</c> JSON, compared case-insensitively). Registered in DI by the capability that owns the kind.
/// </summary>
public interface IDiscoverySourceFactory
{
    /// <summary>The source kind: <c>dns</c>, <c>srv</c>, <c>consul</c>, <c>kubernetes</c>, <c>registration</c>.</summary>
    string Kind { get; }

    /// <summary>
    /// Checks the pool's <c>Discovery</c> JSON object (the whole object, <c>Source</c> included) when a snapshot is
    /// built. Adds every problem to <paramref name="errors"/> (any error quarantines the pool's row with the reason)
    /// and returns null then; otherwise returns a source for <paramref name="poolName"/>.
    /// </summary>
    IDiscoverySource? Create(string poolName, JsonElement specification, List<string> errors);
}
