namespace FuncGateway.Caching;

/// <summary>The headers the response cache writes and reads, documented in docs/caching.md.</summary>
public static class CacheHeaders
{
    /// <summary>On every GET and HEAD of a cached route: how the cache answered (<see cref="Hit"/>, <see cref="Miss"/>, <see cref="Stale"/>, <see cref="Bypass"/>).</summary>
    public const string Status = "X-Cache";

    /// <summary>Served from a fresh entry.</summary>
    public const string Hit = "hit";

    /// <summary>Not found (or not fresh): the upstream answered.</summary>
    public const string Miss = "miss";

    /// <summary>Served from an entry past its freshness: the upstream failed, or another request is refreshing it.</summary>
    public const string Stale = "stale";

    /// <summary>Not looked up and never stored: the request carries credentials on a shared route, a <c>Range</c>, <c>Cache-Control: no-store</c>, or is anonymous on a per-caller route.</summary>
    public const string Bypass = "bypass";

    /// <summary>Upstream response header naming the entry's purge tags (comma-separated); removed before the client sees it.</summary>
    public const string Tag = "Cache-Tag";

    /// <summary>The CORS headers' prefix: the gateway's answer for one Origin is never stored, an upstream's own are.</summary>
    internal const string AccessControlPrefix = "Access-Control-";
}
