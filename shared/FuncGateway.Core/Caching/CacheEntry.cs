namespace FuncGateway.Caching;

/// <summary>One stored response: immutable, shared by every request it answers.</summary>
internal sealed class CacheEntry
{
    public CacheEntry(
        string key, string routeId, string path, int status, KeyValuePair<string, string[]>[] headers, byte[] body,
        long storedAt, long freshUntil, long staleIfErrorUntil, long staleWhileRevalidateUntil, int initialAge, string[] tags)
    {
        Key = key;
        RouteId = routeId;
        Path = path;
        Status = status;
        Headers = headers;
        Body = body;
        StoredAt = storedAt;
        FreshUntil = freshUntil;
        StaleIfErrorUntil = staleIfErrorUntil;
        StaleWhileRevalidateUntil = staleWhileRevalidateUntil;
        InitialAge = initialAge;
        Tags = tags;
        long size = 256 + (key.Length * 2) + (path.Length * 2) + body.Length;
        foreach (var (name, values) in headers)
        {
            size += 32 + (name.Length * 2);
            foreach (var value in values)
            {
                size += value.Length * 2;
            }
        }

        Size = size;
        foreach (var (name, values) in headers)
        {
            if (string.Equals(name, "ETag", StringComparison.OrdinalIgnoreCase) && values.Length == 1)
            {
                ETag = values[0];
            }
            else if (string.Equals(name, "Last-Modified", StringComparison.OrdinalIgnoreCase) && values.Length == 1
                && DateTimeOffset.TryParse(values[0], System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var modified))
            {
                LastModified = modified;
            }
        }
    }

    public string Key { get; }

    public string RouteId { get; }

    /// <summary>The client's (normalised) request path: what a prefix purge matches.</summary>
    public string Path { get; }

    public int Status { get; }

    /// <summary>The headers as the client received them (less hop-by-hop, <c>Age</c>, <c>X-Cache</c>, the tag header).</summary>
    public KeyValuePair<string, string[]>[] Headers { get; }

    public byte[] Body { get; }

    /// <summary>Timestamps in <see cref="TimeProvider.GetUtcNow"/> ticks.</summary>
    public long StoredAt { get; }

    public long FreshUntil { get; }

    public long StaleIfErrorUntil { get; }

    public long StaleWhileRevalidateUntil { get; }

    /// <summary>The upstream's own <c>Age</c> when it was stored, in seconds.</summary>
    public int InitialAge { get; }

    public string[] Tags { get; }

    public string? ETag { get; }

    public DateTimeOffset? LastModified { get; }

    /// <summary>Approximate bytes held.</summary>
    public long Size { get; }

    /// <summary>Seconds since the response was made (upstream age plus time in this cache).</summary>
    public long AgeSeconds(long now) => InitialAge + Math.Max(0, (now - StoredAt) / TimeSpan.TicksPerSecond);

    /// <summary>Latest instant the entry is of any use.</summary>
    public long UsableUntil => Math.Max(FreshUntil, Math.Max(StaleIfErrorUntil, StaleWhileRevalidateUntil));
}
