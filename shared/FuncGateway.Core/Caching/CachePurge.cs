using System.Globalization;
using Azure;
using Azure.Data.Tables;

namespace FuncGateway.Caching;

/// <summary>What a purge matches.</summary>
public enum CachePurgeKind
{
    /// <summary>Every entry of one route (by id).</summary>
    Route,

    /// <summary>Every entry whose request path is the prefix or lies below it (segment-wise).</summary>
    Prefix,

    /// <summary>Every entry the upstream tagged with it in <c>Cache-Tag</c>.</summary>
    Tag,
}

/// <summary>
/// One purge, as a row of <c>{TablePrefix}CachePurges</c> (partition <c>purge</c>; row key: the request time in
/// ticks, 19 digits, a dash and a random id, so rows sort by time). Every gateway instance reads the rows of the
/// last <see cref="CachePurgeTable.Window"/> at each registry refresh interval and drops what each new one matches.
/// </summary>
public sealed record CachePurge(string Id, CachePurgeKind Kind, string Value, DateTimeOffset RequestedAt)
{
    internal const int MaxValueLength = 1024;

    /// <summary>A new purge; the error says what is wrong with the value, else null.</summary>
    public static CachePurge? Create(CachePurgeKind kind, string? value, DateTimeOffset now, out string? error)
    {
        value = value?.Trim();
        error = value switch
        {
            null or "" => $"A {kind.ToString().ToLowerInvariant()} purge needs a value.",
            { Length: > MaxValueLength } => $"The value is longer than {MaxValueLength} characters.",
            _ when kind == CachePurgeKind.Prefix && !value.StartsWith('/') => "A prefix starts with '/'.",
            _ => null,
        };
        if (error is not null)
        {
            return null;
        }

        var id = now.UtcTicks.ToString("D19", CultureInfo.InvariantCulture) + "-" + Guid.NewGuid().ToString("N")[..12];
        return new CachePurge(id, kind, value!, now);
    }

    internal bool Matches(CacheEntry entry) => Kind switch
    {
        CachePurgeKind.Route => string.Equals(entry.RouteId, Value, StringComparison.Ordinal),
        CachePurgeKind.Prefix => IsUnder(entry.Path, Value),
        CachePurgeKind.Tag => entry.Tags.Contains(Value, StringComparer.Ordinal),
        _ => false,
    };

    /// <summary>
    /// Segment-wise and ignoring case: route literals match paths ignoring case, so a client can make entries under
    /// "/CATALOG/..." that a purge of "/catalog" must drop too (dropping an entry too many costs one miss).
    /// </summary>
    private static bool IsUnder(string path, string prefix)
    {
        var trimmed = prefix.TrimEnd('/');
        return trimmed.Length == 0
            || string.Equals(path, trimmed, StringComparison.OrdinalIgnoreCase)
            || (path.StartsWith(trimmed, StringComparison.OrdinalIgnoreCase) && path.Length > trimmed.Length && path[trimmed.Length] == '/');
    }
}

/// <summary>The purge table: the one format the gateway, its admin endpoint and <c>fgw cache purge</c> share.</summary>
public static class CachePurgeTable
{
    /// <summary>The partition every purge row is in.</summary>
    public const string Partition = "purge";

    /// <summary>How far back each read looks (room for clock differences between instances and slow refreshes).</summary>
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(15);

    /// <summary>The table: <c>{TablePrefix}CachePurges</c>.</summary>
    public static string Name(string tablePrefix) => tablePrefix + "CachePurges";

    /// <summary>Writes a purge row (creating the table when needed).</summary>
    public static async Task AddAsync(TableClient table, CachePurge purge, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(purge);
        var entity = new TableEntity(Partition, purge.Id)
        {
            ["Kind"] = purge.Kind.ToString(),
            ["Value"] = purge.Value,
            ["RequestedAt"] = purge.RequestedAt,
        };
        try
        {
            await table.AddEntityAsync(entity, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            await table.CreateIfNotExistsAsync(cancellationToken);
            await table.AddEntityAsync(entity, cancellationToken);
        }
    }

    /// <summary>The purges requested since <paramref name="since"/> (by the requester's clock), oldest first; null when the table does not exist (no purge was ever requested).</summary>
    internal static async Task<List<CachePurge>?> ReadSinceAsync(TableClient table, DateTimeOffset since, CancellationToken cancellationToken)
    {
        var from = since.UtcTicks.ToString("D19", CultureInfo.InvariantCulture);
        var result = new List<CachePurge>();
        try
        {
            await foreach (var row in table.QueryAsync<TableEntity>(
                filter: $"PartitionKey eq '{Partition}' and RowKey ge '{from}'", cancellationToken: cancellationToken))
            {
                if (Enum.TryParse<CachePurgeKind>(row.GetString("Kind"), ignoreCase: true, out var kind) && row.GetString("Value") is { } value)
                {
                    result.Add(new CachePurge(row.RowKey, kind, value, row.GetDateTimeOffset("RequestedAt") ?? since));
                }
            }
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            // No purge was ever requested: the table does not exist yet.
            return null;
        }

        return result;
    }
}
