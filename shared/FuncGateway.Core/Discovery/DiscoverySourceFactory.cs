using System.Text.Json;

namespace FuncGateway.Discovery;

/// <summary>
/// The common part of a source factory: the specification must be a JSON object holding only <c>Source</c> and the
/// source's own <paramref name="fields"/>; the source reads and checks their values.
/// </summary>
internal abstract class DiscoverySourceFactory(string kind, IReadOnlyCollection<string> fields) : IDiscoverySourceFactory
{
    public string Kind => kind;

    public IDiscoverySource? Create(string poolName, JsonElement specification, List<string> errors)
    {
        ArgumentNullException.ThrowIfNull(poolName);
        return DiscoverySpecificationReader.Open(specification, kind, fields, errors) is { } reader ? Create(poolName, reader, errors) : null;
    }

    /// <summary>Reads the fields; null when any had a problem (each one is in <paramref name="errors"/>).</summary>
    protected abstract IDiscoverySource? Create(string poolName, DiscoverySpecificationReader reader, List<string> errors);
}
