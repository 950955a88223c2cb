using System.ComponentModel.DataAnnotations;

namespace FuncGateway.Caching;

/// <summary>Settings under <c>FuncGateway:Cache</c> (app settings <c>FuncGateway__Cache__...</c>), see docs/caching.md.</summary>
public sealed class CacheOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "FuncGateway:Cache";

    /// <summary>The largest response (body plus headers) one entry holds; a larger body streams through uncached.</summary>
    [Range(1024, 1024L * 1024 * 1024)]
    public long MaxEntryBytes { get; set; } = 1024 * 1024;

    /// <summary>The most all entries of one gateway instance hold together; the least recently used go first.</summary>
    [Range(1024, 64L * 1024 * 1024 * 1024)]
    public long MaxTotalBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>
    /// A StackExchange.Redis connection string (<c>host:6379,password=...,ssl=true</c>) for the optional shared tier:
    /// entries stored by one instance answer misses on the others. Empty (the default): each instance caches alone.
    /// </summary>
    public string? RedisConnectionString { get; set; }
}
