using System.Collections.Concurrent;
using Azure;
using Azure.Data.Tables;
using Azure.Identity;

namespace FuncGateway.RateLimiting;

/// <summary>
/// The counters on Azure Table Storage (or Azurite): one entity per policy/partition/shard/window, replaced with
/// <c>If-Match</c> so concurrent instances never lose each other's updates.
/// </summary>
internal sealed class TableRateLimitStore : IRateLimitStore
{
    public const string CountProperty = "Count";
    public const string TokensProperty = "Tokens";
    public const string UpdatedAtProperty = "UpdatedAt";
    public const string ExpiresProperty = "Expires";
    public const string WindowStartProperty = "WindowStart";
    public const string LimitProperty = "Limit";
    public const string PolicyProperty = "Policy";
    public const string PartitionByProperty = "PartitionBy";

    private const int DeleteParallelism = 8;

    private readonly TableClient _table;

    public TableRateLimitStore(TableServiceClient service, string tableName)
    {
        ArgumentNullException.ThrowIfNull(service);
        _table = service.GetTableClient(tableName);
    }

    public string TableName => _table.Name;

    public async Task EnsureTableAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            await _table.CreateIfNotExistsAsync(cancellationToken);
        }
        catch (Exception ex) when (IsStorageFailure(ex))
        {
            throw Wrap("create the rate-limit table", ex);
        }
    }

    public async ValueTask<CounterRow?> ReadAsync(CounterAddress address, CancellationToken cancellationToken = default)
    {
        try
        {
            var response = await _table.GetEntityIfExistsAsync<TableEntity>(address.PartitionKey, address.RowKey, cancellationToken: cancellationToken);
            if (!response.HasValue || response.Value is null)
            {
                return null;
            }

            var entity = response.Value;
            return new CounterRow(
                entity.GetInt64(CountProperty) ?? 0,
                entity.GetDouble(TokensProperty) ?? 0,
                entity.GetDateTimeOffset(UpdatedAtProperty)?.ToUnixTimeMilliseconds() ?? 0,
                entity.ETag.ToString());
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            // The table itself is missing (deleted, or a fresh in-memory Azurite): no counter yet; the insert creates it.
            return null;
        }
        catch (Exception ex) when (IsStorageFailure(ex))
        {
            throw Wrap("read a counter", ex);
        }
    }

    public async ValueTask<string?> TryWriteAsync(CounterAddress address, CounterWrite write, string? ifMatch, CancellationToken cancellationToken = default)
    {
        var entity = new TableEntity(address.PartitionKey, address.RowKey)
        {
            [CountProperty] = write.Count,
            [TokensProperty] = write.Tokens,
            [UpdatedAtProperty] = DateTimeOffset.FromUnixTimeMilliseconds(write.UpdatedAtMs),
            [ExpiresProperty] = write.Expires,
            [LimitProperty] = write.Limit,
            [PolicyProperty] = write.Policy,
            [PartitionByProperty] = write.PartitionBy,
        };
        if (write.WindowStart is { } start)
        {
            entity[WindowStartProperty] = start;
        }

        for (var attempt = 0; ; attempt++)
        {
            try
            {
                Response response = ifMatch is null
                    ? await _table.AddEntityAsync(entity, cancellationToken)
                    : await _table.UpdateEntityAsync(entity, new ETag(ifMatch), TableUpdateMode.Replace, cancellationToken);
                return response.Headers.ETag?.ToString() ?? throw new RateLimitStoreException("Storage answered a write without an ETag.");
            }
            catch (RequestFailedException ex) when (ex.Status is 409 or 412 && ex.ErrorCode != "TableBeingDeleted")
            {
                return null;
            }
            catch (RequestFailedException ex) when (ex.Status == 404 && ifMatch is null && attempt == 0)
            {
                // No table (yet, or again after an in-memory emulator restarted): create it once and try again.
                await EnsureTableAsync(cancellationToken);
            }
            catch (RequestFailedException ex) when (ex.Status == 404 && ifMatch is not null)
            {
                // The row went away under us (maintenance, or the table was recreated): read again.
                return null;
            }
            catch (Exception ex) when (IsStorageFailure(ex))
            {
                throw Wrap("write a counter", ex);
            }
        }
    }

    public async Task<int> DeleteExpiredAsync(DateTimeOffset expiredBefore, int maxRows, CancellationToken cancellationToken = default)
    {
        var expired = new List<(string PartitionKey, string RowKey, ETag ETag)>();
        try
        {
            // A filter on a non-key property scans the table. That is fine for a job that runs every few minutes over
            // a table that holds only live windows; the projection keeps each page small.
            var filter = TableClient.CreateQueryFilter($"Expires lt {expiredBefore}");
            await foreach (var entity in _table.QueryAsync<TableEntity>(filter, maxPerPage: 1000, select: ["PartitionKey", "RowKey"], cancellationToken: cancellationToken))
            {
                expired.Add((entity.PartitionKey, entity.RowKey, entity.ETag));
                if (expired.Count >= maxRows)
                {
                    break;
                }
            }
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return 0;
        }
        catch (Exception ex) when (IsStorageFailure(ex))
        {
            throw Wrap("list expired counters", ex);
        }

        var deleted = 0;
        var failures = new ConcurrentQueue<Exception>();
        await Parallel.ForEachAsync(expired, new ParallelOptions { MaxDegreeOfParallelism = DeleteParallelism, CancellationToken = cancellationToken }, async (row, ct) =>
        {
            try
            {
                // The ETag from the listing: a row written again since (a token bucket in use) is not deleted.
                await _table.DeleteEntityAsync(row.PartitionKey, row.RowKey, row.ETag, ct);
                Interlocked.Increment(ref deleted);
            }
            catch (RequestFailedException ex) when (ex.Status is 404 or 412)
            {
            }
            catch (Exception ex) when (IsStorageFailure(ex))
            {
                failures.Enqueue(ex);
            }
        });

        if (!failures.IsEmpty)
        {
            throw Wrap($"delete {failures.Count} expired counters ({deleted} deleted)", failures.First());
        }

        return deleted;
    }

    /// <summary>What the SDK throws when storage is down, slow or refuses us (see TableRegistryStore).</summary>
    private static bool IsStorageFailure(Exception ex) =>
        ex is RequestFailedException or AggregateException or AuthenticationFailedException or CredentialUnavailableException
            or IOException or HttpRequestException or TimeoutException
        || (ex is OperationCanceledException && ex.InnerException is TimeoutException);

    private RateLimitStoreException Wrap(string what, Exception ex) => ex switch
    {
        RequestFailedException { Status: > 0 } rfe => new($"Could not {what} in '{_table.Name}': storage answered {rfe.Status} {rfe.ErrorCode}.", ex),
        RequestFailedException or AggregateException => new($"Could not {what} in '{_table.Name}': storage unreachable ({(ex as AggregateException)?.InnerExceptions.LastOrDefault()?.Message ?? ex.Message}).", ex),
        _ => new($"Could not {what} in '{_table.Name}': {ex.Message}", ex),
    };
}
