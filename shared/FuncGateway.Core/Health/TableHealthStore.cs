using FuncGateway.Model;
using Azure;
using Azure.Data.Tables;
using Azure.Identity;
using FuncGateway.Storage;

namespace FuncGateway.Health;

/// <summary>
/// The Health table <c>{TablePrefix}Health</c>: one row per pool (PartitionKey) and instance (RowKey: the URL,
/// percent-encoded), plus one lease row (PartitionKey empty, RowKey <c>prober-lease</c>). Created on first use.
/// </summary>
internal sealed class TableHealthStore : IHealthStore
{
    public const string LeasePartitionKey = "";
    public const string LeaseRowKey = "prober-lease";

    private readonly TableClient _table;
    private volatile bool _ready;

    public TableHealthStore(TableServiceClient service, StorageOptions options)
    {
        ArgumentNullException.ThrowIfNull(service);
        ArgumentNullException.ThrowIfNull(options);
        _table = service.GetTableClient(TableName(options));
    }

    string IHealthStore.TableName => _table.Name;

    public static string TableName(StorageOptions options) => options.TablePrefix + "Health";

    /// <summary>The RowKey of an instance: its URL with every reserved character (including '/', '?', '#') percent-encoded.</summary>
    public static string RowKey(string url) => Uri.EscapeDataString(url);

    public async Task<IReadOnlyList<HealthRecord>> ReadAllAsync(CancellationToken cancellationToken = default)
    {
        await EnsureTableAsync(cancellationToken);
        var records = new List<HealthRecord>();
        try
        {
            await foreach (var entity in _table.QueryAsync<TableEntity>(cancellationToken: cancellationToken))
            {
                if (ToRecord(entity) is { } record)
                {
                    records.Add(record);
                }
            }
        }
        catch (Exception ex) when (IsStorageFailure(ex))
        {
            throw Wrap("read", ex);
        }

        return records;
    }

    public async Task WriteAsync(IReadOnlyList<HealthRecord> records, CancellationToken cancellationToken = default)
    {
        await EnsureTableAsync(cancellationToken);

        // Azure takes a transaction within one partition and of at most 100 entities; Azurite would not complain.
        foreach (var pool in records.GroupBy(r => r.Pool, StringComparer.Ordinal))
        {
            foreach (var chunk in pool.Chunk(TableRegistryStore.MaxTransactionSize))
            {
                try
                {
                    await _table.SubmitTransactionAsync(chunk.Select(r => new TableTransactionAction(TableTransactionActionType.UpsertReplace, ToEntity(r))), cancellationToken);
                }
                catch (Exception ex) when (IsStorageFailure(ex))
                {
                    throw Wrap("write", ex);
                }
            }
        }
    }

    public async Task DeleteAsync(IReadOnlyList<(string Pool, string Url)> keys, CancellationToken cancellationToken = default)
    {
        await EnsureTableAsync(cancellationToken);
        foreach (var (pool, url) in keys)
        {
            try
            {
                await _table.DeleteEntityAsync(pool, RowKey(url), ETag.All, cancellationToken);
            }
            catch (Exception ex) when (IsStorageFailure(ex))
            {
                throw Wrap("delete from", ex);
            }
        }
    }

    public async Task<bool> TryAcquireLeaseAsync(string owner, DateTimeOffset now, DateTimeOffset expiresAt, CancellationToken cancellationToken = default)
    {
        await EnsureTableAsync(cancellationToken);
        try
        {
            var existing = await _table.GetEntityIfExistsAsync<TableEntity>(LeasePartitionKey, LeaseRowKey, cancellationToken: cancellationToken);
            var lease = new TableEntity(LeasePartitionKey, LeaseRowKey) { ["Owner"] = owner, ["ExpiresAt"] = expiresAt };
            if (!existing.HasValue || existing.Value is null)
            {
                await _table.AddEntityAsync(lease, cancellationToken);
                return true;
            }

            var current = existing.Value;
            var holder = current.GetString("Owner");
            var until = current.GetDateTimeOffset("ExpiresAt");
            if (holder != owner && until is { } u && u > now)
            {
                return false;
            }

            // Conditional on the ETag read above: of two instances racing for an expired lease, one wins.
            await _table.UpdateEntityAsync(lease, current.ETag, TableUpdateMode.Replace, cancellationToken);
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status is 409 or 412)
        {
            return false;
        }
        catch (Exception ex) when (IsStorageFailure(ex))
        {
            throw Wrap("take the prober lease in", ex);
        }
    }

    public async Task ReleaseLeaseAsync(string owner, CancellationToken cancellationToken = default)
    {
        try
        {
            var existing = await _table.GetEntityIfExistsAsync<TableEntity>(LeasePartitionKey, LeaseRowKey, cancellationToken: cancellationToken);
            if (existing.HasValue && existing.Value is { } current && current.GetString("Owner") == owner)
            {
                await _table.DeleteEntityAsync(LeasePartitionKey, LeaseRowKey, current.ETag, cancellationToken);
            }
        }
        catch (RequestFailedException ex) when (ex.Status is 404 or 412)
        {
        }
        catch (Exception ex) when (IsStorageFailure(ex))
        {
            throw Wrap("release the prober lease in", ex);
        }
    }

    private async Task EnsureTableAsync(CancellationToken cancellationToken)
    {
        if (_ready)
        {
            return;
        }

        try
        {
            await _table.CreateIfNotExistsAsync(cancellationToken);
            _ready = true;
        }
        catch (Exception ex) when (IsStorageFailure(ex))
        {
            throw Wrap("create", ex);
        }
    }

    private static TableEntity ToEntity(HealthRecord record) => new(record.Pool, RowKey(record.Url))
    {
        ["Url"] = record.Url,
        ["State"] = record.State.ToString(),
        ["ConsecutiveSuccesses"] = record.ConsecutiveSuccesses,
        ["ConsecutiveFailures"] = record.ConsecutiveFailures,
        ["LatencyMs"] = record.LatencyMs,
        ["LastStatus"] = record.LastStatus,
        ["LastError"] = record.LastError is { Length: > 1024 } e ? e[..1024] : record.LastError,
        ["ProbedAt"] = record.ProbedAt,
        ["StateChangedAt"] = record.StateChangedAt,
        ["ProbedBy"] = record.ProbedBy,
    };

    /// <summary>A row as a record; null for the lease row and for rows this version cannot read (they are ignored, not fatal).</summary>
    private static HealthRecord? ToRecord(TableEntity entity)
    {
        try
        {
            return ToRecordOrThrow(entity);
        }
        catch (InvalidOperationException)
        {
            // A property of an unexpected type (someone edited the row by hand).
            return null;
        }
    }

    private static HealthRecord? ToRecordOrThrow(TableEntity entity)
    {
        if (entity.PartitionKey == LeasePartitionKey
            || entity.GetString("Url") is not { Length: > 0 } url
            || !Enum.TryParse<HealthState>(entity.GetString("State"), ignoreCase: true, out var state)
            || entity.GetDateTimeOffset("ProbedAt") is not { } probedAt)
        {
            return null;
        }

        return new HealthRecord(
            entity.PartitionKey,
            url,
            state,
            entity.GetInt32("ConsecutiveSuccesses") ?? 0,
            entity.GetInt32("ConsecutiveFailures") ?? 0,
            entity.GetDouble("LatencyMs"),
            entity.GetInt32("LastStatus"),
            entity.GetString("LastError"),
            probedAt,
            entity.GetDateTimeOffset("StateChangedAt") ?? probedAt,
            entity.GetString("ProbedBy"));
    }

    private static bool IsStorageFailure(Exception ex) =>
        ex is RequestFailedException or AggregateException or AuthenticationFailedException or CredentialUnavailableException;

    private RegistryStoreException Wrap(string what, Exception ex)
    {
        if (ex is RequestFailedException { Status: 404, ErrorCode: "TableNotFound" })
        {
            // The table went away (a storage account reset, an emulator restarted in memory): make it again next time.
            _ready = false;
        }

        return Describe(what, ex);
    }

    private RegistryStoreException Describe(string what, Exception ex) => ex switch
    {
        RequestFailedException { Status: > 0 } rfe => new($"Could not {what} table '{_table.Name}': storage answered {rfe.Status} {rfe.ErrorCode}.", ex),
        AggregateException agg => new($"Could not {what} table '{_table.Name}': storage unreachable ({agg.InnerExceptions.LastOrDefault()?.Message ?? agg.Message}).", ex),
        _ => new($"Could not {what} table '{_table.Name}': {ex.Message}", ex),
    };
}
