using Azure;
using Azure.Data.Tables;

namespace FuncGateway.Authentication.ApiKeys;

/// <summary>Reads API key records by hash.</summary>
internal interface IApiKeyStore
{
    /// <summary>The record, or null when no key has this hash. Throws <see cref="ApiKeyStoreException"/> when storage fails.</summary>
    Task<ApiKeyRecord?> FindAsync(string hash, CancellationToken cancellationToken);
}

/// <summary>Storage could not answer.</summary>
internal sealed class ApiKeyStoreException : Exception
{
    public ApiKeyStoreException()
    {
    }

    public ApiKeyStoreException(string message)
        : base(message)
    {
    }

    public ApiKeyStoreException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>A key's row exists but is not a usable key record: the key is refused as unknown, and the reason logged.</summary>
public sealed class ApiKeyRecordException(string keyId, string problem) : Exception($"API key record '{keyId}': {problem}")
{
    /// <summary>The record's <c>KeyId</c> (a public handle), or <c>(no KeyId)</c>.</summary>
    public string KeyId { get; } = keyId;

    /// <summary>What is wrong with the record.</summary>
    public string Problem { get; } = problem;
}

/// <summary>
/// The <c>{TablePrefix}ApiKeys</c> table: one point read per lookup. A table this store has never seen is an empty one
/// (no key was ever created; <c>fgw keys</c> makes it); once it has answered a lookup, its absence is an outage.
/// </summary>
internal sealed class TableApiKeyStore(TableClient table) : IApiKeyStore
{
    private const string TableNotFound = "TableNotFound";

    private static readonly string[] Columns = ["KeyId", "ConsumerId", "Name", "Tier", "Scopes", "Enabled", "ExpiresAt", "CreatedAt"];

    // The table has answered a lookup: a missing table from now on means it went away (an account reset, an emulator
    // restarted in memory, a deleted table), not that no key was ever created. Reading that as "every key unknown"
    // would answer every client's valid key 401 and then throttle its address for failing authentication.
    private volatile bool _seen;

    public async Task<ApiKeyRecord?> FindAsync(string hash, CancellationToken cancellationToken)
    {
        try
        {
            // Not GetEntityIfExistsAsync: it answers "no such entity" for a missing table too, which must be told apart.
            var response = await table.GetEntityAsync<TableEntity>(ApiKeyFormat.PartitionOf(hash), hash, Columns, cancellationToken);
            _seen = true;
            var entity = response.Value;
            return ApiKeyFormat.Read(entity, out var problem)
                ?? throw new ApiKeyRecordException(entity.TryGetValue("KeyId", out var keyId) && keyId is string id ? id : "(no KeyId)", problem!);
        }
        catch (RequestFailedException ex) when (ex.Status == 404 && ex.ErrorCode != TableNotFound)
        {
            _seen = true;
            return null;
        }
        catch (RequestFailedException ex) when (ex.Status == 404 && !_seen)
        {
            return null;
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            throw new ApiKeyStoreException($"The table '{table.Name}' no longer exists (it did when last read).", ex);
        }
        catch (RequestFailedException ex)
        {
            throw new ApiKeyStoreException($"Storage answered {ex.Status}.", ex);
        }
        catch (Exception ex) when (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested || ex is AggregateException or System.Net.Http.HttpRequestException or IOException)
        {
            throw new ApiKeyStoreException(ex.GetType().Name, ex);
        }
    }
}

/// <summary>Used when storage is not configured: every lookup fails, so keys are refused with 503 (fail closed).</summary>
internal sealed class UnavailableApiKeyStore : IApiKeyStore
{
    public Task<ApiKeyRecord?> FindAsync(string hash, CancellationToken cancellationToken) =>
        Task.FromException<ApiKeyRecord?>(new ApiKeyStoreException("Storage is not configured."));
}
