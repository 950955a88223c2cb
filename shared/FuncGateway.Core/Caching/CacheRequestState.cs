namespace FuncGateway.Caching;

/// <summary>What the cache knows about one request that missed, on <c>HttpContext.Features</c> from the step to the completion.</summary>
internal sealed class CacheRequestState(RouteCache cache, string primaryKey, string key)
{
    public RouteCache Cache { get; } = cache;

    public string PrimaryKey { get; } = primaryKey;

    /// <summary>The key the request looked up (primary key plus the values of headers the upstream varied on before).</summary>
    public string Key { get; } = key;

    /// <summary>A GET whose response may be stored; the upstream sees only keyed input.</summary>
    public bool IsCandidate { get; set; }

    /// <summary>Set when this request leads a coalesced miss: the others wait for its response.</summary>
    public CacheFlight? Flight { get; set; }

    /// <summary>The response was judged storable before its body streamed: status, freshness, vary and tags to store with.</summary>
    public CacheDecision? Decision { get; set; }

    /// <summary>The copy of the body taken while it streams to the client.</summary>
    public CacheCaptureStream? Capture { get; set; }
}

/// <summary>What the response transform decided about a storable response.</summary>
internal sealed record CacheDecision(int Status, TimeSpan FreshFor, bool AllowStale, string[] Vary, string[] Tags, int InitialAge)
{
    /// <summary>The upstream's own <c>Access-Control-*</c> header names (null: none), which are stored; the gateway's CORS answer is not.</summary>
    public string[]? UpstreamAccessControl { get; init; }
}
