using Azure;
using Azure.Core;
using Azure.Data.Tables;
using Azure.Identity;

using FuncGateway.Model;

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
    private readonly TableClient _schemas;
    private readonly TableClient _state;

    // Set once EnsureTablesUnlessLostAsync has run: every registry table was then either created or recorded as seen
    // before, so from then on a missing one was lost (deleted, or storage restored without it) and the reads say so.
    private volatile bool _lossDetectable;

    // Set once this store has made sure the Schemas table exists: from then on its absence means it was deleted, which
    // is an outage like a missing Routes table, not "no schemas" (that would reject every route that names a schema).
    private volatile bool _schemasTableEnsured;

    public TableRegistryStore(TableServiceClient service, StorageOptions options)
    {
        ArgumentNullException.ThrowIfNull(service);
        ArgumentNullException.ThrowIfNull(options);
        _routes = service.GetTableClient(options.RoutesTable);
        _upstreams = service.GetTableClient(options.UpstreamsTable);
        _schemas = service.GetTableClient(options.SchemasTable);
        _state = service.GetTableClient(options.StateTable);
    }

    /// <summary>The partition of the State table whose rows (row key: the table's name) record the registry tables seen.</summary>
    public const string SeenTablesPartition = "registry-table-seen";

    private const string SeenTablesFilter = "PartitionKey eq '" + SeenTablesPartition + "'";

    /// <summary>
    /// Builds the service client from a connection string, or from a table endpoint with a managed identity;
    /// <paramref name="configure"/> may add to its options (a pipeline policy).
    /// </summary>
    public static TableServiceClient CreateServiceClient(StorageOptions options, string? fallbackConnectionString, TimeSpan networkTimeout, Action<TableClientOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var clientOptions = new TableClientOptions();
        configure?.Invoke(clientOptions);

        // The loader polls; a failed read is retried at the next interval, so keep one read short and bounded: one
        // retry after 200 ms, and none when storage asks for a longer pause (GatewayRetryPolicy).
        clientOptions.Retry.MaxRetries = 1;
        clientOptions.Retry.Mode = RetryMode.Fixed;
        clientOptions.Retry.Delay = TimeSpan.FromMilliseconds(200);
        clientOptions.Retry.NetworkTimeout = networkTimeout;
        clientOptions.RetryPolicy = new GatewayRetryPolicy(clientOptions.Retry.MaxRetries, clientOptions.Retry.Delay);
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
            await _schemas.CreateIfNotExistsAsync(cancellationToken);
            _schemasTableEnsured = true;
        }
        catch (Exception ex) when (IsStorageFailure(ex))
        {
            throw Wrap("create the registry tables", ex);
        }
    }

    public async Task EnsureTablesUnlessLostAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            await _state.CreateIfNotExistsAsync(cancellationToken);
            var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            await foreach (var entity in _state.QueryAsync<TableEntity>(SeenTablesFilter, select: KeyColumns, cancellationToken: cancellationToken))
            {
                seen.Add(entity.RowKey);
            }

            foreach (var table in (TableClient[])[_upstreams, _routes, _schemas])
            {
                // A table seen before is not created: if it is missing, it was lost, and made empty it would be served
                // as an empty registry by every instance from then on. Its read fails instead (LostTable).
                if (seen.Contains(table.Name))
                {
                    continue;
                }

                await table.CreateIfNotExistsAsync(cancellationToken);
                await _state.UpsertEntityAsync(
                    new TableEntity(SeenTablesPartition, table.Name)
                    {
                        ["Meaning"] = "The gateway has seen this registry table. While this row exists, a gateway that finds the table missing does not create it empty; fgw import does.",
                    },
                    TableUpdateMode.Replace,
                    cancellationToken);
            }

            _schemasTableEnsured = true;
            _lossDetectable = true;
        }
        catch (Exception ex) when (IsStorageFailure(ex))
        {
            throw Wrap($"prepare the registry tables (or their record in '{_state.Name}')", ex);
        }
    }

    public async Task<RegistryContent> ReadAllAsync(CancellationToken cancellationToken = default)
    {
        var upstreams = await ReadTableAsync(_upstreams, RegistryTable.Upstreams, cancellationToken);
        var routes = await ReadTableAsync(_routes, RegistryTable.Routes, cancellationToken);

        // The Schemas table came later than the other two: a registry created before it has none, which means no schemas
        // (for a reader that did not create it, such as fgw export; see _schemasTableEnsured).
        List<RegistryRow> schemas;
        try
        {
            schemas = await ReadTableAsync(_schemas, RegistryTable.Schemas, cancellationToken);
        }
        catch (RegistryStoreException ex) when (IsMissingTable(ex) && !_schemasTableEnsured)
        {
            schemas = [];
        }

        return new RegistryContent(upstreams, routes) { Schemas = schemas };
    }

    public async Task<string?> ReadFingerprintAsync(CancellationToken cancellationToken = default)
    {
        // Each entity is hashed as its page arrives and dropped: polled every few seconds on a busy instance, a read
        // that kept thousands of rows until its end would see them promoted to the oldest generation every time.
        using var fingerprint = new RegistryFingerprint();
        var complete = await AddKeysAsync(_upstreams, RegistryTable.Upstreams, fingerprint, cancellationToken)
                       && await AddKeysAsync(_routes, RegistryTable.Routes, fingerprint, cancellationToken);
        try
        {
            complete = complete && await AddKeysAsync(_schemas, RegistryTable.Schemas, fingerprint, cancellationToken);
        }
        catch (RegistryStoreException ex) when (IsMissingTable(ex) && !_schemasTableEnsured)
        {
        }

        return complete ? fingerprint.Finish() : null;
    }

    private static bool IsMissingTable(RegistryStoreException ex) =>
        ex.InnerException is RequestFailedException { Status: 404, ErrorCode: "TableNotFound" };

    /// <summary>A failed read; a registry table missing after <see cref="EnsureTablesUnlessLostAsync"/> is a lost one, said as such.</summary>
    private RegistryStoreException ReadFailure(string what, TableClient table, Exception ex) =>
        _lossDetectable && ex is RequestFailedException { Status: 404, ErrorCode: "TableNotFound" }
            ? new RegistryStoreException(
                $"Table '{table.Name}' is missing, but the gateway has seen it before ('{_state.Name}' records it): it was deleted, or storage was "
                + "restored without it. The gateway does not create it empty, which every instance would then serve as an empty table: "
                + "import the registry (fgw import), or create the table if an empty one is meant.",
                ex)
            {
                LostTable = table.Name,
            }
            : Wrap(what, ex);

    private async Task<List<RegistryRow>> ReadTableAsync(TableClient table, RegistryTable kind, CancellationToken cancellationToken)
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
            throw ReadFailure($"read table '{table.Name}'", table, ex);
        }

        return rows;
    }

    /// <summary>The projection of a keys-only read: the service adds each entity's ETag (<c>odata.etag</c>) to it.</summary>
    private static readonly string[] KeyColumns = ["PartitionKey", "RowKey"];

    /// <summary>
    /// Rows per page of a keys-only read. The storage client buffers each response whole; a page of 1,000 keys and
    /// ETags (about 110 KB) lands on the large object heap, which only a full collection reclaims, so every poll of a
    /// large registry left about a megabyte there (at 10,000 routes under load: 182 MiB resident at the median against
    /// 169 MiB with 400, bench/README.md). 400 typical rows stay under the 85,000-byte threshold.
    /// </summary>
    private const int KeysPerPage = 400;

    /// <summary>Adds every row's keys and ETag; false when a row came without an ETag (then a full read must tell).</summary>
    private async Task<bool> AddKeysAsync(TableClient table, RegistryTable kind, RegistryFingerprint fingerprint, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var entity in table.QueryAsync<TableEntity>(maxPerPage: KeysPerPage, select: KeyColumns, cancellationToken: cancellationToken))
            {
                var etag = entity.ETag.ToString();
                if (etag.Length == 0)
                {
                    return false;
                }

                fingerprint.Add(kind, entity.PartitionKey, entity.RowKey, etag);
            }
        }
        catch (Exception ex) when (IsStorageFailure(ex))
        {
            throw ReadFailure($"read the keys of table '{table.Name}'", table, ex);
        }

        return true;
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

    public async Task<RegistryWriteResult> ApplyAsync(IReadOnlyList<RegistryWrite> writes, bool force = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(writes);
        foreach (var write in writes)
        {
            if (write.Kind != RegistryWriteKind.Insert && write.IfMatch is null && !force)
            {
                throw new ArgumentException($"A {write.Kind} of row '{write.Row.RowKey}' needs the ETag it was read with.", nameof(writes));
            }

            if (write.Kind != RegistryWriteKind.Delete)
            {
                CheckEntitySize(write.Row);
            }
        }

        var applied = 0;
        while (applied < writes.Count)
        {
            var write = writes[applied];
            var table = TableFor(write.Row.Table);
            if (write.Kind == RegistryWriteKind.Delete)
            {
                if (!await DeleteAsync(table, write, force, cancellationToken))
                {
                    return new RegistryWriteResult(applied, write);
                }

                applied++;
                continue;
            }

            // Azure accepts a transaction only within one partition and up to 100 entities; Azurite checks neither,
            // so the split is made here. Only consecutive writes are batched: the caller's order is kept.
            var batch = new List<RegistryWrite> { write };
            while (applied + batch.Count < writes.Count && batch.Count < MaxTransactionSize
                   && writes[applied + batch.Count] is { Kind: not RegistryWriteKind.Delete } next
                   && next.Row.Table == write.Row.Table && string.Equals(next.Row.PartitionKey, write.Row.PartitionKey, StringComparison.Ordinal))
            {
                batch.Add(next);
            }

            try
            {
                await table.SubmitTransactionAsync(batch.Select(w => ToAction(w, force)), cancellationToken);
            }
            catch (TableTransactionFailedException ex) when (!force && IsConflict(ex))
            {
                // The whole transaction was rolled back: report the row that did not match what was read.
                var failed = ex.FailedTransactionActionIndex is { } i && i < batch.Count ? batch[i] : batch[0];
                return new RegistryWriteResult(applied, failed);
            }
            catch (TableTransactionFailedException ex)
            {
                var failed = ex.FailedTransactionActionIndex is { } i && i < batch.Count ? $" (row '{batch[i].Row.RowKey}')" : "";
                throw new RegistryStoreException($"Storage rejected a write to '{table.Name}' partition '{write.Row.PartitionKey}'{failed}: {ex.Status} {ex.ErrorCode}.", ex);
            }
            catch (Exception ex) when (IsStorageFailure(ex))
            {
                throw Wrap($"write to '{table.Name}'", ex);
            }

            applied += batch.Count;
        }

        return new RegistryWriteResult(applied, null);
    }

    /// <summary>Deletes one row; false when it changed since it was read (412). A row already gone counts as deleted.</summary>
    private static async Task<bool> DeleteAsync(TableClient table, RegistryWrite write, bool force, CancellationToken cancellationToken)
    {
        try
        {
            // DeleteEntity answers a missing row (404) without throwing.
            await table.DeleteEntityAsync(write.Row.PartitionKey, write.Row.RowKey, force ? ETag.All : new ETag(write.IfMatch!), cancellationToken);
            return true;
        }
        catch (RequestFailedException ex) when (!force && ex.Status == 412)
        {
            return false;
        }
        catch (Exception ex) when (IsStorageFailure(ex))
        {
            throw Wrap($"delete row '{write.Row.RowKey}' from '{table.Name}'", ex);
        }
    }

    private static TableTransactionAction ToAction(RegistryWrite write, bool force) => (write.Kind, force) switch
    {
        (_, true) => new TableTransactionAction(TableTransactionActionType.UpsertReplace, ToEntity(write.Row)),
        (RegistryWriteKind.Insert, _) => new TableTransactionAction(TableTransactionActionType.Add, ToEntity(write.Row)),
        _ => new TableTransactionAction(TableTransactionActionType.UpdateReplace, ToEntity(write.Row), new ETag(write.IfMatch!)),
    };

    /// <summary>
    /// The row is not as it was read: 409 (an insert found a row), 412 (a replacement found another ETag) or 404 (a
    /// replacement found no row). A missing table is a storage failure, not a conflict.
    /// </summary>
    private static bool IsConflict(RequestFailedException ex) =>
        ex.Status is 409 or 412 || (ex.Status == 404 && ex.ErrorCode != "TableNotFound");

    private TableClient TableFor(RegistryTable table) => table switch
    {
        RegistryTable.Routes => _routes,
        RegistryTable.Schemas => _schemas,
        _ => _upstreams,
    };

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
                case string s when s.Length > RegistryEntityReader.MaxStringPropertyChars:
                    throw new RegistryStoreException($"Row '{row.RowKey}': property '{key}' is {s.Length} characters; Table Storage allows {RegistryEntityReader.MaxStringPropertyChars}.");
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
    internal static bool IsStorageFailure(Exception ex) =>
        ex is RequestFailedException or AggregateException or AuthenticationFailedException or CredentialUnavailableException;

    internal static RegistryStoreException Wrap(string what, Exception ex) => ex switch
    {
        RequestFailedException { Status: > 0 } rfe => new($"Could not {what}: storage answered {rfe.Status} {rfe.ErrorCode}.", ex),
        AggregateException agg => new($"Could not {what}: storage unreachable ({agg.InnerExceptions.LastOrDefault()?.Message ?? agg.Message}).", ex),
        _ => new($"Could not {what}: {ex.Message}", ex),
    };
}
