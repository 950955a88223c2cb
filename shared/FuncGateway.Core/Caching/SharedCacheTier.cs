using System.Text;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Logging;

namespace FuncGateway.Caching;

/// <summary>
/// The optional fleet-wide tier under each instance's own cache (<c>FuncGateway:Cache:RedisConnectionString</c>):
/// entries stored by one instance answer misses on the others. Built on <see cref="HybridCache"/> over Redis with its
/// in-memory level switched off (the instance's LRU store is that level). Purges remove by tag: every entry carries
/// its route, its tags and every path prefix it lies under. A failing Redis never fails a request: it is a miss.
/// </summary>
internal sealed class SharedCacheTier(HybridCache cache, ILogger<SharedCacheTier> logger)
{
    private const string EntryPrefix = "fgw:e:";
    private const string VaryPrefix = "fgw:v:";

    private static readonly HybridCacheEntryOptions ReadOnly = new() { Flags = HybridCacheEntryFlags.DisableLocalCache | HybridCacheEntryFlags.DisableUnderlyingData };

    /// <summary>The entry under <paramref name="key"/>, or null (also when Redis fails).</summary>
    public async ValueTask<CacheEntry?> GetAsync(string key, CancellationToken cancellationToken)
    {
        var bytes = await ReadAsync(EntryPrefix + Hash(key), cancellationToken);

        // Keys are hashed to fit Redis and HybridCache's key limits; the entry carries its full key, compared here.
        return bytes is not null && CacheEntrySerializer.Read(bytes) is { } entry && string.Equals(entry.Key, key, StringComparison.Ordinal) ? entry : null;
    }

    /// <summary>The header names the upstream varied on for this primary key, when another instance stored them.</summary>
    public async ValueTask<string[]?> GetVaryAsync(string primaryKey, CancellationToken cancellationToken)
    {
        var bytes = await ReadAsync(VaryPrefix + Hash(primaryKey), cancellationToken);
        if (bytes is null)
        {
            return null;
        }

        // The primary key, then the names, one a line.
        var lines = Encoding.UTF8.GetString(bytes).Split('\n');
        return string.Equals(lines[0], primaryKey, StringComparison.Ordinal) ? [.. lines.Skip(1).Where(static l => l.Length > 0)] : null;
    }

    public async ValueTask SetAsync(string primaryKey, string[] vary, CacheEntry entry, long now, CancellationToken cancellationToken)
    {
        var lifetime = TimeSpan.FromTicks(Math.Max(TimeSpan.TicksPerSecond, entry.UsableUntil - now));
        var options = new HybridCacheEntryOptions { Expiration = lifetime, Flags = HybridCacheEntryFlags.DisableLocalCache };
        var tags = Tags(entry);
        try
        {
            if (vary.Length > 0)
            {
                await cache.SetAsync(VaryPrefix + Hash(primaryKey), Encoding.UTF8.GetBytes(primaryKey + "\n" + string.Join('\n', vary)), options, tags, cancellationToken);
            }

            await cache.SetAsync(EntryPrefix + Hash(entry.Key), CacheEntrySerializer.Write(entry), options, tags, cancellationToken);
        }
#pragma warning disable CA1031 // The shared tier is an optimisation: a failure is logged, the response is already served.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            CacheLog.SharedTierFailed(logger, ex);
        }
    }

    /// <summary>Invalidates what the purge matches in the shared tier.</summary>
    public async ValueTask PurgeAsync(CachePurge purge, CancellationToken cancellationToken)
    {
        var tag = purge.Kind switch
        {
            CachePurgeKind.Route => RouteTag(purge.Value),
            CachePurgeKind.Prefix => PrefixTag(purge.Value.Length > 1 ? purge.Value.TrimEnd('/') : purge.Value),
            _ => TagTag(purge.Value),
        };
        try
        {
            await cache.RemoveByTagAsync(tag, cancellationToken);
        }
#pragma warning disable CA1031 // Logged; entries expire with their TTL at the latest.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            CacheLog.SharedTierFailed(logger, ex);
        }
    }

    private async ValueTask<byte[]?> ReadAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            return await cache.GetOrCreateAsync<byte[]?>(key, static _ => ValueTask.FromResult<byte[]?>(null), ReadOnly, cancellationToken: cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
#pragma warning disable CA1031 // A failing shared tier is a miss, never an error.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            CacheLog.SharedTierFailed(logger, ex);
            return null;
        }
    }

    /// <summary>The route, each upstream tag, and every path prefix the entry lies under (segment-wise, "/" included).</summary>
    internal static List<string> Tags(CacheEntry entry)
    {
        var tags = new List<string> { RouteTag(entry.RouteId), PrefixTag("/") };
        foreach (var tag in entry.Tags)
        {
            tags.Add(TagTag(tag));
        }

        var path = entry.Path;
        for (var i = path.IndexOf('/', 1); ; i = path.IndexOf('/', i + 1))
        {
            var prefix = i < 0 ? path : path[..i];
            if (prefix.Length > 1)
            {
                tags.Add(PrefixTag(prefix));
            }

            if (i < 0)
            {
                break;
            }
        }

        return tags;
    }

    private static string Hash(string key) => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    private static string RouteTag(string id) => "r:" + id;

    // In lower case: a prefix purge ignores case, as route literals do (CachePurge.Matches).
    private static string PrefixTag(string prefix) => "p:" + prefix.ToLowerInvariant();

    private static string TagTag(string tag) => "t:" + tag;
}
