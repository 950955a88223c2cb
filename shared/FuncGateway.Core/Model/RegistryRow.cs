namespace FuncGateway.Model;

/// <summary>One table entity as the registry sees it: keys, ETag and the raw property values, free of SDK types.</summary>
/// <param name="Table">Which registry table the row came from.</param>
/// <param name="PartitionKey">The entity's partition key (a free-form group label).</param>
/// <param name="RowKey">The entity's row key: the route id or upstream pool name.</param>
/// <param name="Properties">User properties (system properties removed), as stored: string, bool, int, long, double, DateTimeOffset, Guid or byte[].</param>
/// <param name="ETag">The entity's ETag, used to detect changes between reads.</param>
public sealed record RegistryRow(RegistryTable Table, string PartitionKey, string RowKey, IReadOnlyDictionary<string, object?> Properties, string? ETag = null);

/// <summary>The registry tables.</summary>
public enum RegistryTable
{
    /// <summary>Route definitions.</summary>
    Routes,

    /// <summary>Upstream pools.</summary>
    Upstreams,

    /// <summary>Named JSON Schemas that routes' <c>Validation</c> refers to (one schema per row).</summary>
    Schemas,
}

/// <summary>Everything read from the registry tables in one pass.</summary>
public sealed record RegistryContent(IReadOnlyList<RegistryRow> Upstreams, IReadOnlyList<RegistryRow> Routes)
{
    /// <summary>The rows of the Schemas table (empty when the table does not exist).</summary>
    public IReadOnlyList<RegistryRow> Schemas { get; init; } = [];
}

/// <summary>A row the gateway refused, and every reason why.</summary>
public sealed record RejectedRow(RegistryTable Table, string PartitionKey, string RowKey, IReadOnlyList<string> Errors);
