using System.Globalization;
using FuncGateway.Model;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace FuncGateway.Caching;

/// <summary>Writes a stored response to the client: whole, or 304 for a matching conditional request.</summary>
internal static class CacheResponse
{
    // What a 304 carries of the stored response (RFC 9110 §15.4.5), plus Last-Modified for the client's next IMS.
    private static readonly string[] NotModifiedHeaders =
        [HeaderNames.CacheControl, HeaderNames.ContentLocation, HeaderNames.Date, HeaderNames.ETag, HeaderNames.Expires, HeaderNames.Vary, HeaderNames.LastModified];

    public static async Task WriteAsync(HttpContext context, CacheEntry entry, long now, string label, bool conditional)
    {
        var response = context.Response;
        response.Headers.Clear();
        var age = entry.AgeSeconds(now).ToString(CultureInfo.InvariantCulture);
        if (conditional && IsNotModified(context.Request.Headers, entry))
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            foreach (var (name, values) in entry.Headers)
            {
                if (NotModifiedHeaders.Contains(name, StringComparer.OrdinalIgnoreCase))
                {
                    response.Headers[name] = values;
                }
            }

            response.Headers.Age = age;
            response.Headers[CacheHeaders.Status] = label;
            return;
        }

        response.StatusCode = entry.Status;
        foreach (var (name, values) in entry.Headers)
        {
            response.Headers[name] = values;
        }

        response.Headers.Age = age;
        response.Headers[CacheHeaders.Status] = label;
        response.ContentLength = entry.Body.Length;
        if (!HttpMethods.IsHead(context.Request.Method) && entry.Body.Length > 0)
        {
            await response.Body.WriteAsync(entry.Body, context.RequestAborted);
        }
    }

    /// <summary>RFC 9110 §13.1.2 and §13.1.3: If-None-Match (weak comparison) first; If-Modified-Since only without it.</summary>
    internal static bool IsNotModified(IHeaderDictionary request, CacheEntry entry)
    {
        // §13.2.1: preconditions apply only where the answer would otherwise be 2xx; a stored redirect is sent as it is.
        if (entry.Status is < 200 or > 299)
        {
            return false;
        }

        var noneMatch = request.IfNoneMatch;
        if (noneMatch.Count > 0)
        {
            if (entry.ETag is null || !EntityTagHeaderValue.TryParse(entry.ETag, out var stored))
            {
                return false;
            }

            if (!EntityTagHeaderValue.TryParseList(noneMatch, out var given))
            {
                return false;
            }

            foreach (var tag in given)
            {
                if (tag.Equals(EntityTagHeaderValue.Any) || tag.Compare(stored, useStrongComparison: false))
                {
                    return true;
                }
            }

            return false;
        }

        return entry.LastModified is { } modified
            && HeaderUtilities.TryParseDate(request.IfModifiedSince.ToString(), out var since)
            && modified <= since;
    }
}

/// <summary>The stale entry served in the upstream's place when it fails (stale-if-error).</summary>
internal sealed class StaleCacheResponse(CacheEntry entry, TimeProvider time) : IUpstreamFailureResponse
{
    public async Task<bool> TryWriteAsync(HttpContext context)
    {
        var now = time.GetUtcNow().UtcTicks;
        if (now >= entry.StaleIfErrorUntil)
        {
            return false;
        }

        await CacheResponse.WriteAsync(context, entry, now, CacheHeaders.Stale, conditional: false);
        return true;
    }
}
