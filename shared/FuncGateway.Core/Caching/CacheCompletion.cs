using FuncGateway.Model;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Net.Http.Headers;
using Yarp.ReverseProxy.Forwarder;

namespace FuncGateway.Caching;

/// <summary>
/// Stores a response the response transform judged storable, once it has reached the client whole (no forwarding
/// error, the client stayed, the body within the entry cap and as long as announced), then ends the request's flight
/// so the misses waiting on it look again.
/// </summary>
internal sealed class CacheCompletion(
    ResponseCacheStore store, CacheFlights flights, TimeProvider time, ILogger<CacheCompletion> logger, SharedCacheTierProvider tiers) : IGatewayCompletion
{
    private readonly SharedCacheTier? _shared = tiers.Tier;

    // Connection-level and cache-made headers are not part of the stored response, nor the CORS answer made for this
    // request's Origin (the CORS step makes it again for each request that a hit answers; see IsCorsAnswer), nor what the gateway says
    // about this request alone: its rate-limit state (the caller's quota, made again for each request a hit answers)
    // and its request id.
    private static readonly string[] NotStored =
    [
        HeaderNames.Connection, HeaderNames.KeepAlive, HeaderNames.TransferEncoding, HeaderNames.Upgrade, HeaderNames.TE, HeaderNames.Trailer,
        HeaderNames.ProxyAuthenticate, "Proxy-Connection", HeaderNames.Age, HeaderNames.ContentLength, HeaderNames.SetCookie, CacheHeaders.Status, CacheHeaders.Tag,
        RateLimiting.RateLimitingStep.HeaderName, RateLimiting.RateLimitingStep.PolicyHeaderName, Diagnostics.RequestId.HeaderName,
    ];

    public ValueTask OnCompletedAsync(GatewayCompletionContext context)
    {
        var http = context.HttpContext;
        if (http.Features.Get<CacheRequestState>() is not { } state)
        {
            return ValueTask.CompletedTask;
        }

        try
        {
            if (state.Decision is { } decision && state.Capture is { Overflowed: false } capture && IsComplete(http, decision, capture))
            {
                Store(http, state, decision, capture.ToArray());
            }
        }
        finally
        {
            if (state.Flight is { } flight)
            {
                flights.Complete(flight);
            }
        }

        return ValueTask.CompletedTask;
    }

    private static bool IsComplete(HttpContext http, CacheDecision decision, CacheCaptureStream capture) =>
        !http.RequestAborted.IsCancellationRequested
        && http.Features.Get<IForwarderErrorFeature>() is null
        && http.Response.StatusCode == decision.Status
        && (http.Response.ContentLength is not { } length || length == capture.CopiedBytes);

    /// <summary>
    /// The gateway's CORS answer for this request's Origin: an <c>Access-Control-*</c> header the response did not have
    /// when it was judged (the upstream's own, on a route without <c>Cors</c>, are part of the response and stored).
    /// </summary>
    private static bool IsCorsAnswer(string name, CacheDecision decision) =>
        name.StartsWith(CacheHeaders.AccessControlPrefix, StringComparison.OrdinalIgnoreCase)
        && (decision.UpstreamAccessControl is not { } upstream || !upstream.Contains(name, StringComparer.OrdinalIgnoreCase));

    private void Store(HttpContext http, CacheRequestState state, CacheDecision decision, byte[] body)
    {
        var headers = new List<KeyValuePair<string, string[]>>();
        foreach (var (name, values) in http.Response.Headers)
        {
            if (!NotStored.Contains(name, StringComparer.OrdinalIgnoreCase) && !IsCorsAnswer(name, decision))
            {
                headers.Add(new(name, values.ToArray()!));
            }
        }

        var now = time.GetUtcNow().UtcTicks;
        var fresh = now + decision.FreshFor.Ticks;
        var cache = state.Cache;
        var key = ResponseCacheStore.FullKey(state.PrimaryKey, decision.Vary, http.Request.Headers);
        var entry = new CacheEntry(
            key, cache.RouteId, http.Request.Path.Value ?? "/", decision.Status, [.. headers], body, now, fresh,
            decision.AllowStale ? fresh + cache.StaleIfError.Ticks : fresh,
            decision.AllowStale ? fresh + cache.StaleWhileRevalidate.Ticks : fresh,
            decision.InitialAge, decision.Tags);
        if (!store.Set(state.PrimaryKey, decision.Vary, entry))
        {
            CacheLog.EntryTooLarge(logger, cache.RouteId, entry.Size);
            return;
        }

        // Not awaited: the client's response must not wait on Redis (the write logs its own failure).
        _ = _shared?.SetAsync(state.PrimaryKey, decision.Vary, entry, now, CancellationToken.None).AsTask();
    }
}
