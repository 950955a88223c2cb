using Azure;
using Azure.Core;
using Azure.Data.Tables;
using Azure.Identity;
using FuncGateway.Configuration;

namespace FuncGateway.Storage;

/// <summary>The registry on Azure Table Storage (or Azurite).</summary>
internal sealed class TableRegistryStore : IRegistryStore
{
    /// <summary>Azure's limit on entities in one transaction.</summary>
    public const int MaxTransactionSize = 100;

    /// <summary>Azure's limit on one entity's size.</summary>
    public const int MaxEntityBytes = 1024 * 1024;

    private readonly TableClient _routes;
    private readonly TableClient _upstreams;

    public TableRegistryStore(TableServiceClient service, StorageOptions options)
    {
        ArgumentNullException.ThrowIfNull(service);
        ArgumentNullException.ThrowIfNull(options);
        _routes = service.GetTableClient(options.RoutesTable);
        _upstreams = service.GetTableClient(options.UpstreamsTable);
    }

    /// <summary>Builds the service client from a connection string, or from a table endpoint with a managed identity.</summary>
    public static TableServiceClient CreateServiceClient(StorageOptions options, string? fallbackConnectionString, TimeSpan networkTimeout)
    {
        ArgumentNullException.ThrowIfNull(options);
        var clientOptions = new TableClientOptions();

        // The loader polls; a failed read is retried at the next interval, so keep one read short and bounded.
        clientOptions.Retry.MaxRetries = 1;
        clientOptions.Retry.Mode = RetryMode.Fixed;
        clientOptions.Retry.Delay = TimeSpan.FromMilliseconds(200);
        clientOptions.Retry.NetworkTimeout = networkTimeout;
        if (!string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            return new TableServiceClient(options.ConnectionString, clientOptions);
        }

        if (!string.IsNullOrWhiteSpace(options.TableServiceUri))
        {
            if (!Uri.TryCreate(options.TableServiceUri, UriKind.Absolute, out var uri))
            {
                throw new RegistryStoreException($"FuncGateway:Storage:TableServiceUri '{options.TableServiceUri}' is not an absolute URI.");
            }

            var credential = string.IsNullOrWhiteSpace(options.ManagedIdentityClientId)
                ? new DefaultAzureCredential()
                : new DefaultAzureCredential(new DefaultAzureCredentialOptions { ManagedIdentityClientId = options.ManagedIdentityClientId });
            return new TableServiceClient(uri, credential, clientOptions);
        }

        if (!string.IsNullOrWhiteSpace(fallbackConnectionString))
        {
            return new TableServiceClient(fallbackConnectionString, clientOptions);
        }

        throw new RegistryStoreException("No storage configured: set FuncGateway:Storage:ConnectionString, FuncGateway:Storage:TableServiceUri or AzureWebJobsStorage.");
    }

    public async Task EnsureTablesAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            await _routes.CreateIfNotExistsAsync(cancellationToken);
            await _upstreams.CreateIfNotExistsAsync(cancellationToken);
        }
        catch (Exception ex) when (IsStorageFailure(ex))
        {
            throw Wrap("create the registry tables", ex);
        }
    }

    public async Task<RegistryContent> ReadAllAsync(CancellationToken cancellationToken = default)
    {
        var upstreams = await ReadTableAsync(_upstreams, RegistryTable.Upstreams, cancellationToken);
        var routes = await ReadTableAsync(_routes, RegistryTable.Routes, cancellationToken);
        return new RegistryContent(upstreams, routes);
    }

    private static async Task<List<RegistryRow>> ReadTableAsync(TableClient table, RegistryTable kind, CancellationToken cancellationToken)
    {
        var rows = new List<RegistryRow>();
        try
        {
            await foreach (var entity in table.QueryAsync<TableEntity>(cancellationToken: cancellationToken))
            {
                rows.Add(ToRow(kind, entity));
            }
        }
        catch (Exception ex) when (IsStorageFailure(ex))
        {
            throw Wrap($"read table '{table.Name}'", ex);
        }

        return rows;
    }

    private static RegistryRow ToRow(RegistryTable kind, TableEntity entity)
    {
        var properties = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (key, value) in entity)
        {
            if (key is "PartitionKey" or "RowKey" or "Timestamp" or "odata.etag")
            {
                continue;
            }

            properties[key] = value;
        }

        return new RegistryRow(kind, entity.PartitionKey, entity.RowKey, properties, entity.ETag.ToString());
    }

    public async Task UpsertAsync(IReadOnlyList<RegistryRow> rows, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(rows);
        foreach (var row in rows)
        {
            CheckEntitySize(row);
        }

        await SubmitAsync(rows, static row => new TableTransactionAction(TableTransactionActionType.UpsertReplace, ToEntity(row)), cancellationToken);
    }

    public async Task DeleteAsync(IReadOnlyList<RegistryRow> rows, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(rows);
        foreach (var row in rows)
        {
            var table = TableFor(row.Table);
            try
            {
                // A row that is already gone is not an error (DeleteEntity treats 404 as success).
                await table.DeleteEntityAsync(row.PartitionKey, row.RowKey, ETag.All, cancellationToken);
            }
            catch (Exception ex) when (IsStorageFailure(ex))
            {
                throw Wrap($"delete row '{row.RowKey}' from '{table.Name}'", ex);
            }
        }
    }

    /// <summary>
    /// Azure accepts a transaction only within one partition and up to 100 entities; Azurite checks neither,
    /// so the split is made here.
    /// </summary>
    private async Task SubmitAsync(IReadOnlyList<RegistryRow> rows, Func<RegistryRow, TableTransactionAction> action, CancellationToken cancellationToken)
    {
        foreach (var group in rows.GroupBy(r => (r.Table, r.PartitionKey)))
        {
            var table = TableFor(group.Key.Table);
            foreach (var chunk in group.Chunk(MaxTransactionSize))
            {
                try
                {
                    await table.SubmitTransactionAsync(chunk.Select(action), cancellationToken);
                }
                catch (TableTransactionFailedException ex)
                {
                    var failed = ex.FailedTransactionActionIndex is { } i && i < chunk.Length ? $" (row '{chunk[i].RowKey}')" : "";
                    throw new RegistryStoreException($"Storage rejected a write to '{table.Name}' partition '{group.Key.PartitionKey}'{failed}: {ex.Status} {ex.ErrorCode}.", ex);
                }
                catch (Exception ex) when (IsStorageFailure(ex))
                {
                    throw Wrap($"write to '{table.Name}'", ex);
                }
            }
        }
    }

    private TableClient TableFor(RegistryTable table) => table == RegistryTable.Routes ? _routes : _upstreams;

    private static TableEntity ToEntity(RegistryRow row)
    {
        var entity = new TableEntity(row.PartitionKey, row.RowKey);
        foreach (var (key, value) in row.Properties)
        {
            entity[key] = value;
        }

        return entity;
    }

    /// <summary>Rejects an entity Azure would refuse (1 MiB per entity, 64 KiB per string), with a message naming it.</summary>
    internal static void CheckEntitySize(RegistryRow row)
    {
        long bytes = 4 + (2 * (row.PartitionKey.Length + row.RowKey.Length));
        foreach (var (key, value) in row.Properties)
        {
            bytes += 8 + (2 * key.Length);
            switch (value)
            {
                case string s when s.Length > RegistryFormat.MaxStringPropertyChars:
                    throw new RegistryStoreException($"Row '{row.RowKey}': property '{key}' is {s.Length} characters; Table Storage allows {RegistryFormat.MaxStringPropertyChars}.");
                case string s:
                    bytes += 4 + (2 * s.Length);
                    break;
                case byte[] b:
                    bytes += 4 + b.Length;
                    break;
                default:
                    bytes += 8;
                    break;
            }
        }

        if (bytes > MaxEntityBytes)
        {
            throw new RegistryStoreException($"Row '{row.RowKey}' is about {bytes} bytes; Table Storage allows 1 MiB per entity.");
        }
    }

    /// <summary>
    /// What the SDK throws when storage is down or refuses us: a status (<see cref="RequestFailedException"/>), retries
    /// exhausted on transport errors (<see cref="AggregateException"/>), or no usable identity.
    /// </summary>
    private static bool IsStorageFailure(Exception ex) =>
        ex is RequestFailedException or AggregateException or AuthenticationFailedException or CredentialUnavailableException;

    private static RegistryStoreException Wrap(string what, Exception ex) => ex switch
    {
        RequestFailedException { Status: > 0 } rfe => new($"Could not {what}: storage answered {rfe.Status} {rfe.ErrorCode}.", ex),
        AggregateException agg => new($"Could not {what}: storage unreachable ({agg.InnerExceptions.LastOrDefault()?.Message ?? agg.Message}).", ex),
        _ => new($"Could not {what}: {ex.Message}", ex),
    };
}
