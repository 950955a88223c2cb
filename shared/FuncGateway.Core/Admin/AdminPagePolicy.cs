using Microsoft.AspNetCore.Http;

namespace FuncGateway.Admin;

/// <summary>
/// The headers of every admin response: a strict Content-Security-Policy (only the page's own script and style sheet,
/// calls to its own origin; no inline code, no other origin, no framing, no form posts, no base-URL change),
/// <c>nosniff</c>, frame denial, no referrer, and a browsing context group of its own (<c>Cross-Origin-Opener-Policy</c>).
/// </summary>
internal static class AdminPagePolicy
{
    /// <summary>The Content-Security-Policy of the admin surface (the dashboard's page and everything else).</summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    /// <summary>Sets the policy's headers and <paramref name="cacheControl"/>.</summary>
    public static void Apply(HttpResponse response, string cacheControl)
    {
        var headers = response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "no-referrer";

        // A page of the gateway's origin (every proxied response shares it) that opens the dashboard in a window gets no
        // handle on it: the dashboard runs in a browsing context group of its own.
        headers["Cross-Origin-Opener-Policy"] = "same-origin";
        headers.CacheControl = cacheControl;
    }
}
