using FuncGateway.Diagnostics;
using FuncGateway.Model;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Net.Http.Headers;

namespace FuncGateway.Caching;

/// <summary>
/// The post-match step of a cached route (after authentication and rate limits): answers GET and HEAD from a fresh
/// entry (or 304), from a stale one while another request refreshes it, and makes concurrent GET misses for one key
/// wait for a single upstream request (bounded by the route's timeout). A miss goes on to the upstream with the
/// request state the response transform and the completion step use to store the answer.
/// </summary>
internal sealed class CacheStep(ResponseCacheStore store, CacheFlights flights, TimeProvider time, SharedCacheTierProvider tiers) : IGatewayStep
{
    private readonly SharedCacheTier? _shared = tiers.Tier;

    public GatewayStepOrder Order => GatewayStepOrder.Caching;

    public string ActivityName => GatewayTelemetry.CacheActivityName;

    /// <summary>
    /// A cached route that forwards. A route that answers by itself (a composition, a fixed response) never stores
    /// what it answers: looking it up would only claim misses and make concurrent requests wait for each other.
    /// </summary>
    public bool AppliesTo(CompiledRoute route) => route.GetFeature<RouteCache>() is not null && route.Responder is null;

    public async ValueTask<bool> InvokeAsync(HttpContext context, GatewayRequestFeature feature)
    {
        if (feature.Route.GetFeature<RouteCache>() is not { } cache)
        {
            return true;
        }

        var request = context.Request;
        var isGet = HttpMethods.IsGet(request.Method);
        if (!isGet && !HttpMethods.IsHead(request.Method))
        {
            return true;
        }

        if (!IsEligible(cache, request, feature))
        {
            context.Response.Headers[CacheHeaders.Status] = CacheHeaders.Bypass;
            return true;
        }

        var primaryKey = cache.PrimaryKey(context, feature);
        var key = store.FullKey(primaryKey, request.Headers);
        var now = time.GetUtcNow().UtcTicks;
        var entry = store.Get(key);
        if (entry is null && _shared is not null)
        {
            (entry, key) = await FromSharedTierAsync(_shared, primaryKey, key, request.Headers, context.RequestAborted);
        }

        if (entry is not null)
        {
            if (now < entry.FreshUntil)
            {
                await CacheResponse.WriteAsync(context, entry, now, CacheHeaders.Hit, conditional: true);
                return false;
            }

            if (now >= entry.UsableUntil)
            {
                store.Remove(entry);
                entry = null;
            }
            else if (now < entry.StaleWhileRevalidateUntil && flights.IsActive(key))
            {
                // Another request is already refreshing it: this one need not wait.
                await CacheResponse.WriteAsync(context, entry, now, CacheHeaders.Stale, conditional: false);
                return false;
            }
        }

        var state = new CacheRequestState(cache, primaryKey, key);
        context.Features.Set(state);
        if (entry is not null && now < entry.StaleIfErrorUntil)
        {
            feature.FailureResponse = new StaleCacheResponse(entry, time);
        }

        context.Response.Headers[CacheHeaders.Status] = CacheHeaders.Miss;
        if (!isGet)
        {
            // HEAD is answered from entries GET stored, never stored itself.
            return true;
        }

        state.IsCandidate = true;
        var flight = flights.Join(key, out var leader);
        if (leader)
        {
            state.Flight = flight;
            return true;
        }

        if (entry is not null && now < entry.StaleWhileRevalidateUntil)
        {
            await CacheResponse.WriteAsync(context, entry, now, CacheHeaders.Stale, conditional: false);
            return false;
        }

        try
        {
            await flight.Done.WaitAsync(feature.Route.Timeout, time, context.RequestAborted);
        }
        catch (TimeoutException)
        {
            // The leader is slow: this request goes to the upstream itself.
        }

        now = time.GetUtcNow().UtcTicks;
        if (store.Get(store.FullKey(primaryKey, request.Headers)) is { } stored && now < stored.FreshUntil)
        {
            await CacheResponse.WriteAsync(context, stored, now, CacheHeaders.Hit, conditional: true);
            return false;
        }

        // The leader's answer was not stored (an error, no-store...): ask the upstream, and store what it says.
        return true;
    }

    /// <summary>
    /// A local miss asks the shared tier; what it has is kept here too. When this instance has never seen the primary
    /// key, the shared tier may know which headers the upstream varies on, and so the full key.
    /// </summary>
    private async ValueTask<(CacheEntry? Entry, string Key)> FromSharedTierAsync(
        SharedCacheTier shared, string primaryKey, string key, IHeaderDictionary headers, CancellationToken cancellationToken)
    {
        var knownVary = store.TryGetVary(primaryKey, out var vary);
        var entry = await shared.GetAsync(key, cancellationToken);
        if (entry is null && !knownVary && await shared.GetVaryAsync(primaryKey, cancellationToken) is { Length: > 0 } names)
        {
            vary = names;
            key = ResponseCacheStore.FullKey(primaryKey, names, headers);
            entry = await shared.GetAsync(key, cancellationToken);
        }

        if (entry is not null && time.GetUtcNow().UtcTicks < entry.UsableUntil)
        {
            store.Set(primaryKey, vary, entry);
            return (entry, key);
        }

        return (null, key);
    }

    /// <summary>
    /// RFC 9111 §3.5 and the route's mode: on a shared route, nothing that carries credentials; on a per-caller route,
    /// only authenticated callers the policy names (a user, consumer or key id: a caller with none of them could not be
    /// told from another). Never a range request, one that forbids storing, or one with a body (a GET's body and its
    /// <c>Content-*</c> headers reach the upstream and could change its answer, and no key holds them).
    /// </summary>
    private static bool IsEligible(RouteCache cache, HttpRequest request, GatewayRequestFeature feature)
    {
        var headers = request.Headers;
        if (headers.ContainsKey(HeaderNames.Range) || HasNoStore(headers) || HasBody(request))
        {
            return false;
        }

        return cache.Shared
            ? feature.Identity is null && !headers.ContainsKey(HeaderNames.Authorization) && !headers.ContainsKey(HeaderNames.Cookie)
                && !headers.ContainsKey(HeaderNames.ProxyAuthorization)
            : feature.Identity is { } identity
                && (!string.IsNullOrEmpty(identity.UserId) || !string.IsNullOrEmpty(identity.ConsumerId) || !string.IsNullOrEmpty(identity.KeyId));
    }

    private static bool HasBody(HttpRequest request) =>
        request.HttpContext.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody
        ?? (request.ContentLength > 0 || request.Headers.TransferEncoding.Count > 0);

    private static bool HasNoStore(IHeaderDictionary headers) =>
        headers.CacheControl.Count > 0 && CacheControlHeaderValue.TryParse(headers.CacheControl.ToString(), out var control) && control!.NoStore;
}
