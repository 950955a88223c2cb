using System.Globalization;
using FuncGateway.Model;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace FuncGateway.Caching;

/// <summary>
/// The cache's transforms on a cached route: on the way out (right after the forwarding transforms) a request whose
/// response may be stored loses the input the key does not cover; on the way back (last) the response is judged and,
/// when storable, its body is copied as it streams.
/// </summary>
internal sealed class CacheRequestTransformProvider : IRouteTransformProvider
{
    /// <summary>Right after the forwarding transforms (untrusted headers removed, the gateway's own added), before the trace context.</summary>
    public int Order => RouteTransformOrder.Forwarding + 50;

    public void Apply(RouteTransformBuilderContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.GetFeature<RouteCache>() is { } cache)
        {
            context.RequestTransforms.Add(new CacheRequestTransform(cache));
        }
    }
}

/// <summary>Adds the response transform after every other provider's, so it judges what the client will get.</summary>
internal sealed class CacheResponseTransformProvider(ResponseCacheStore store) : IRouteTransformProvider
{
    public int Order => int.MaxValue;

    public void Apply(RouteTransformBuilderContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.GetFeature<RouteCache>() is { } cache)
        {
            context.ResponseTransforms.Add(new CacheResponseTransform(cache, store));
        }
    }
}

/// <summary>
/// On a request that may be stored: conditional and range headers go (the upstream must answer with the whole
/// representation); every query parameter the key does not name; on a shared route, every client header but the keyed
/// ones and the gateway's own. What is stored then depends only on what the key holds.
/// </summary>
internal sealed class CacheRequestTransform(RouteCache cache) : GatewayRequestTransform
{
    private static readonly string[] Conditional =
        [HeaderNames.IfNoneMatch, HeaderNames.IfModifiedSince, HeaderNames.IfMatch, HeaderNames.IfUnmodifiedSince, HeaderNames.IfRange, HeaderNames.Range];

    public override ValueTask ApplyAsync(GatewayRequestTransformContext context)
    {
        if (context.HttpContext.Features.Get<CacheRequestState>() is not { IsCandidate: true })
        {
            return ValueTask.CompletedTask;
        }

        var headers = context.ProxyRequest.Headers;
        foreach (var name in Conditional)
        {
            headers.Remove(name);
        }

        context.Query = cache.KeptQuery(context.Query);

        // A per-caller entry is only ever served to the same caller: its own headers (credentials included) go on.
        if (!cache.Shared)
        {
            return ValueTask.CompletedTask;
        }

        List<string>? doomed = null;
        foreach (var header in headers.NonValidated)
        {
            if (!cache.KeptHeaders.Contains(header.Key))
            {
                (doomed ??= []).Add(header.Key);
            }
        }

        foreach (var name in doomed ?? [])
        {
            headers.Remove(name);
        }

        return ValueTask.CompletedTask;
    }
}

/// <summary>
/// Judges the upstream's response before its body streams (RFC 9111 §3 for a shared cache, with the route's own
/// rules) and, when it may be stored, copies the body up to <see cref="CacheOptions.MaxEntryBytes"/>. Always removes
/// the tag header and marks the response a miss.
/// </summary>
internal sealed class CacheResponseTransform(RouteCache cache, ResponseCacheStore store) : GatewayResponseTransform
{
    public override ValueTask ApplyAsync(GatewayResponseTransformContext context)
    {
        var state = context.HttpContext.Features.Get<CacheRequestState>();
        var response = context.HttpContext.Response;
        if (context.ProxyResponse is null)
        {
            return ValueTask.CompletedTask;
        }

        var tags = response.Headers[CacheHeaders.Tag];
        response.Headers.Remove(CacheHeaders.Tag);
        if (state is null)
        {
            return ValueTask.CompletedTask;
        }

        response.Headers[CacheHeaders.Status] = CacheHeaders.Miss;
        if (!state.IsCandidate || context.SuppressResponseBody)
        {
            return ValueTask.CompletedTask;
        }

        var decision = Decide(response, tags);
        if (decision is null)
        {
            return ValueTask.CompletedTask;
        }

        state.Decision = decision;
        state.Capture = new CacheCaptureStream(response.Body, store.MaxEntryBytes);
        response.Body = state.Capture;
        return ValueTask.CompletedTask;
    }

    private CacheDecision? Decide(HttpResponse response, StringValues tags)
    {
        // Error responses are never stored, nor what only makes sense once (206, 304 go to the client as they are).
        if (response.StatusCode is not (200 or 203 or 204 or 300 or 301 or 308))
        {
            return null;
        }

        var headers = response.Headers;
        if (headers.ContainsKey(HeaderNames.SetCookie) || response.ContentLength > store.MaxEntryBytes)
        {
            return null;
        }

        CacheControlHeaderValue? control = null;
        if (headers.CacheControl.Count > 0 && !CacheControlHeaderValue.TryParse(headers.CacheControl.ToString(), out control))
        {
            // Directives the gateway cannot read might forbid storing.
            return null;
        }

        // A no-cache naming fields ("no-cache=\"X-Secret\"") allows storing only without those fields or with
        // revalidation (RFC 9111 §5.2.2.4); the cache does neither, so any no-cache is not stored.
        if (control is not null && (control.NoStore || control.NoCache || (control.Private && cache.Shared)))
        {
            return null;
        }

        var vary = new List<string>();
        foreach (var value in headers.Vary)
        {
            foreach (var part in (value ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (part == "*")
                {
                    return null;
                }

                vary.Add(part.ToLowerInvariant());
            }
        }

        var initialAge = UpstreamAge(headers.Age.ToString());
        var freshFor = cache.Ttl;
        if (cache.Definition.UpstreamMaxAge && control is not null && (control.SharedMaxAge ?? control.MaxAge) is { } maxAge)
        {
            var remaining = maxAge - TimeSpan.FromSeconds(initialAge);
            if (remaining < freshFor)
            {
                freshFor = remaining;
            }
        }

        if (freshFor <= TimeSpan.Zero)
        {
            return null;
        }

        var allowStale = control is null || !(control.MustRevalidate || control.ProxyRevalidate || control.NoCache);
        var tagList = new List<string>();
        foreach (var value in tags)
        {
            tagList.AddRange((value ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        }

        return new CacheDecision(response.StatusCode, freshFor, allowStale, [.. vary.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)], [.. tagList], initialAge)
        {
            UpstreamAccessControl = UpstreamAccessControl(headers),
        };
    }

    /// <summary>
    /// The <c>Access-Control-*</c> headers of the response as the upstream and the route's transforms left it, before
    /// the gateway's own CORS answer (made as the response starts, for this request's Origin): part of the stored
    /// response on a route without <c>Cors</c>; none on a route with one (its transform removed the upstream's).
    /// </summary>
    private static string[]? UpstreamAccessControl(IHeaderDictionary headers)
    {
        List<string>? names = null;
        foreach (var name in headers.Keys)
        {
            if (name.StartsWith(CacheHeaders.AccessControlPrefix, StringComparison.OrdinalIgnoreCase))
            {
                (names ??= []).Add(name);
            }
        }

        return names?.ToArray();
    }

    /// <summary>
    /// The upstream's <c>Age</c> in seconds: digits only; a value too large to read counts as 2^31 - 1 (RFC 9111 §1.2.2
    /// says 2^31), never as 0, which would make a response older than its freshness fresh again. Anything else: 0.
    /// </summary>
    internal static int UpstreamAge(string value)
    {
        if (value.Length == 0 || value.AsSpan().ContainsAnyExceptInRange('0', '9'))
        {
            return 0;
        }

        return int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var age) ? age : int.MaxValue;
    }
}
