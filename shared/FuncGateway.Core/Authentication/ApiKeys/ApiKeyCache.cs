using System.Collections.Concurrent;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Logging;

namespace FuncGateway.Authentication.ApiKeys;

/// <summary>What a cached lookup found.</summary>
internal enum ApiKeyLookupStatus
{
    Found,
    NotFound,
    Unavailable,
}

/// <summary>
/// Looks API keys up by hash through two bounded caches (at most <c>CacheSize</c> entries each): records for
/// <c>CacheSeconds</c> (so a revocation or change is seen within that time) and misses for <c>NegativeCacheSeconds</c>
/// (so repeating a wrong key does not reach storage each time). Concurrent lookups of one hash share a single read.
/// When storage fails, a record read within the last <c>CacheSeconds + StaleIfErrorSeconds</c> is still used; an
/// unknown key is then refused with 503. Freshness is judged on the injected <see cref="TimeProvider"/>.
/// </summary>
internal sealed class ApiKeyCache : IDisposable
{
    private readonly IApiKeyStore _store;
    private readonly ApiKeyStoreSettings _settings;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly MemoryCache _found;
    private readonly MemoryCache _missing;
    private readonly ConcurrentDictionary<string, Task<ApiKeyRecord?>> _inflight = new(StringComparer.Ordinal);

    public ApiKeyCache(IApiKeyStore store, ApiKeyStoreSettings settings, TimeProvider time, ILogger<ApiKeyCache> logger)
    {
        _store = store;
        _settings = settings;
        _time = time;
        _logger = logger;
        _found = new MemoryCache(new MemoryCacheOptions { SizeLimit = settings.CacheSize });
        _missing = new MemoryCache(new MemoryCacheOptions { SizeLimit = settings.CacheSize });
    }

    public async ValueTask<(ApiKeyLookupStatus Status, ApiKeyRecord? Record)> LookupAsync(string hash, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        _found.TryGetValue(hash, out Entry? cached);
        if (cached is not null && now - cached.ReadAt < _settings.CacheDuration)
        {
            return (ApiKeyLookupStatus.Found, cached.Record);
        }

        if (_missing.TryGetValue(hash, out DateTimeOffset missedAt) && now - missedAt < _settings.NegativeCacheDuration)
        {
            return (ApiKeyLookupStatus.NotFound, null);
        }

        ApiKeyRecord? record;
        try
        {
            record = await SharedReadAsync(hash).WaitAsync(cancellationToken);
        }
        catch (ApiKeyStoreException ex)
        {
            if (cached is not null && _time.GetUtcNow() - cached.ReadAt < _settings.CacheDuration + _settings.StaleIfError)
            {
                AuthLog.ApiKeyStoreFailed(_logger, ex.InnerException?.GetType().Name ?? ex.GetType().Name, "using the record read earlier");
                return (ApiKeyLookupStatus.Found, cached.Record);
            }

            AuthLog.ApiKeyStoreFailed(_logger, ex.InnerException?.GetType().Name ?? ex.GetType().Name, "refusing the key with 503");
            return (ApiKeyLookupStatus.Unavailable, null);
        }
        catch (ApiKeyRecordException ex)
        {
            // The operator's row, not storage, is at fault: the key is unknown until the row is fixed (and cached as
            // a miss, so the reason is logged once per negative-cache period, not on every request).
            AuthLog.ApiKeyRecordUnusable(_logger, ex.KeyId, ex.Problem);
            record = null;
        }

        var readAt = _time.GetUtcNow();
        if (record is null)
        {
            _found.Remove(hash);
            if (_settings.NegativeCacheDuration > TimeSpan.Zero)
            {
                _missing.Set(hash, readAt, new MemoryCacheEntryOptions { Size = 1, AbsoluteExpirationRelativeToNow = _settings.NegativeCacheDuration });
            }

            return (ApiKeyLookupStatus.NotFound, null);
        }

        var keep = _settings.CacheDuration + _settings.StaleIfError;
        if (keep > TimeSpan.Zero)
        {
            _found.Set(hash, new Entry(record, readAt), new MemoryCacheEntryOptions { Size = 1, AbsoluteExpirationRelativeToNow = keep });
        }

        return (ApiKeyLookupStatus.Found, record);
    }

    /// <summary>One read per hash at a time: the first caller starts it (only once it is in the map), the others join.</summary>
    private Task<ApiKeyRecord?> SharedReadAsync(string hash)
    {
        var mine = new TaskCompletionSource<ApiKeyRecord?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var shared = _inflight.GetOrAdd(hash, mine.Task);
        if (ReferenceEquals(shared, mine.Task))
        {
            _ = ReadAsync(hash, mine);
        }

        return shared;
    }

    private async Task ReadAsync(string hash, TaskCompletionSource<ApiKeyRecord?> completion)
    {
        try
        {
            // Shared by every waiter, so it has its own deadline rather than one request's cancellation.
            using var timeout = new CancellationTokenSource(_settings.LookupTimeout);
            completion.SetResult(await _store.FindAsync(hash, timeout.Token));
        }
        catch (OperationCanceledException ex)
        {
            completion.SetException(new ApiKeyStoreException("The lookup timed out.", ex));
        }
#pragma warning disable CA1031 // Every failure goes to the waiters; the store already turned storage errors into ApiKeyStoreException.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            completion.SetException(ex);
        }
        finally
        {
            _inflight.TryRemove(new KeyValuePair<string, Task<ApiKeyRecord?>>(hash, completion.Task));
        }
    }

    public void Dispose()
    {
        _found.Dispose();
        _missing.Dispose();
    }

    private sealed record Entry(ApiKeyRecord Record, DateTimeOffset ReadAt);
}
