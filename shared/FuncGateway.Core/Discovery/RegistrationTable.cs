using Azure;
using Azure.Data.Tables;
using FuncGateway.Model;
using FuncGateway.Storage;
using Microsoft.Extensions.Options;

namespace FuncGateway.Discovery;

/// <summary>
/// The self-registration table <c>{TablePrefix}Instances</c>: PartitionKey the pool, RowKey the instance id,
/// <c>Url</c> (string), <c>Weight</c> (Int32, optional, 1–1000, default 1), <c>LeaseExpiresAt</c> (DateTime, UTC).
/// A row counts while its lease has not expired by the reading gateway's clock.
/// </summary>
internal sealed class RegistrationTable
{
    public const string Suffix = "Instances";
    public const string UrlColumn = "Url";
    public const string WeightColumn = "Weight";
    public const string LeaseColumn = "LeaseExpiresAt";

    private readonly TableClient? _table;
    private readonly string? _unavailable;
    private int _created;

    // The table has been read or written: a 404 from now on means it went away, not that nobody registered yet.
    private int _seen;

    public RegistrationTable(GatewayTableService tables, IOptions<GatewayOptions> options)
    {
        Name = options.Value.Storage.TablePrefix + Suffix;
        if (tables.TryGetClient(out var client, out var reason))
        {
            _table = client.GetTableClient(Name);
        }
        else
        {
            _unavailable = reason;
        }
    }

    public string Name { get; }

    /// <summary>An instance id: 1–128 letters, digits, <c>-</c>, <c>_</c>, <c>.</c> and <c>:</c> (it is a RowKey).</summary>
    public static bool IsValidId(string id) =>
        id.Length is >= 1 and <= 128 && id.All(static c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':');

    /// <summary>Every row of the pool, whatever its lease. Throws <see cref="DiscoveryLookupException"/> when storage fails.</summary>
    public async Task<IReadOnlyList<TableEntity>> ReadPoolAsync(string pool, CancellationToken cancellationToken)
    {
        var table = Table();
        try
        {
            var rows = new List<TableEntity>();
            await foreach (var row in table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {pool}"), cancellationToken: cancellationToken))
            {
                rows.Add(row);
            }

            Volatile.Write(ref _seen, 1);
            return rows;
        }
        catch (RequestFailedException ex) when (ex.Status == 404 && Volatile.Read(ref _seen) == 0)
        {
            // No table yet: nobody has registered.
            return [];
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            // The table was there and is gone (a storage account reset, an emulator restarted in memory): like an outage,
            // the pool keeps the instances it last read rather than losing them all.
            throw new DiscoveryLookupException($"Could not read table '{Name}': it no longer exists (it did when last read).", ex);
        }
        catch (Exception ex) when (TableRegistryStore.IsStorageFailure(ex))
        {
            throw new DiscoveryLookupException(TableRegistryStore.Wrap($"read {Name}", ex).Message, ex);
        }
    }

    /// <summary>Most lapsed rows one call of <see cref="CountOtherLiveAsync"/> deletes.</summary>
    internal const int MaxLapsedDeletedPerCall = 100;

    /// <summary>
    /// How many instances of the pool other than <paramref name="id"/> hold a lease that has not lapsed at
    /// <paramref name="now"/>. Rows whose lease lapsed are deleted on the way (at most
    /// <see cref="MaxLapsedDeletedPerCall"/>, each only if unchanged since it was read, so a renewal in between wins),
    /// so the rows of instances that went away without deregistering do not pile up. Reads only the keys and leases.
    /// </summary>
    public async Task<int> CountOtherLiveAsync(string pool, string id, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var table = Table();
        var live = 0;
        var lapsed = new List<(string RowKey, ETag ETag)>();
        try
        {
            await foreach (var row in table.QueryAsync<TableEntity>(
                TableClient.CreateQueryFilter($"PartitionKey eq {pool}"), select: [nameof(TableEntity.RowKey), LeaseColumn], cancellationToken: cancellationToken))
            {
                if (string.Equals(row.RowKey, id, StringComparison.Ordinal))
                {
                    continue;
                }

                var lease = row.TryGetValue(LeaseColumn, out var l) ? l switch
                {
                    DateTimeOffset offset => offset,
                    DateTime time => new DateTimeOffset(DateTime.SpecifyKind(time, DateTimeKind.Utc)),
                    _ => (DateTimeOffset?)null,
                } : null;
                if (lease > now)
                {
                    live++;
                }
                else if (lease is not null && lapsed.Count < MaxLapsedDeletedPerCall)
                {
                    // A row without a readable lease is someone's hand-written row: skipped by the source, left alone here.
                    lapsed.Add((row.RowKey, row.ETag));
                }
            }
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return 0;
        }
        catch (Exception ex) when (TableRegistryStore.IsStorageFailure(ex))
        {
            throw new DiscoveryLookupException(TableRegistryStore.Wrap($"read {Name}", ex).Message, ex);
        }

        foreach (var (rowKey, etag) in lapsed)
        {
            try
            {
                await table.DeleteEntityAsync(pool, rowKey, etag, cancellationToken);
            }
            catch (RequestFailedException ex) when (ex.Status is 404 or 412)
            {
                // Gone or renewed since it was read: nothing to clean.
            }
            catch (Exception ex) when (TableRegistryStore.IsStorageFailure(ex))
            {
                // Clean-up is best effort; the next registration tries again.
                break;
            }
        }

        return live;
    }

    public async Task UpsertAsync(string pool, string id, string url, int weight, DateTimeOffset leaseExpiresAt, CancellationToken cancellationToken)
    {
        var entity = new TableEntity(pool, id) { [UrlColumn] = url, [WeightColumn] = weight, [LeaseColumn] = leaseExpiresAt.UtcDateTime };
        await WriteAsync(t => t.UpsertEntityAsync(entity, TableUpdateMode.Replace, cancellationToken), cancellationToken);
    }

    public async Task DeleteAsync(string pool, string id, CancellationToken cancellationToken) =>
        await WriteAsync(t => t.DeleteEntityAsync(pool, id, ETag.All, cancellationToken), cancellationToken);

    private async Task WriteAsync(Func<TableClient, Task<Response>> write, CancellationToken cancellationToken)
    {
        var table = Table();
        try
        {
            if (Interlocked.CompareExchange(ref _created, 1, 0) == 0)
            {
                await table.CreateIfNotExistsAsync(cancellationToken);
            }

            try
            {
                await write(table);
            }
            catch (RequestFailedException ex) when (ex is { Status: 404, ErrorCode: "TableNotFound" })
            {
                // The table went away since it was made (a storage account reset): make it again, once.
                await table.CreateIfNotExistsAsync(cancellationToken);
                await write(table);
            }

            Volatile.Write(ref _seen, 1);
        }
        catch (Exception ex) when (TableRegistryStore.IsStorageFailure(ex))
        {
            Volatile.Write(ref _created, 0);
            throw new DiscoveryLookupException(TableRegistryStore.Wrap($"write {Name}", ex).Message, ex);
        }
    }

    private TableClient Table() => _table ?? throw new DiscoveryLookupException(_unavailable ?? "Table storage is not configured.");
}
