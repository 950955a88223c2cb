using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace FuncGateway.Routing;

/// <summary>
/// What a route's <c>Methods</c> list means when it is empty: every method but TRACE (CONNECT never reaches routing).
/// TRACE asks the upstream to echo the request back, cookies and <c>Authorization</c> included (cross-site tracing),
/// so a route takes it only when its <c>Methods</c> list names it.
/// </summary>
internal static class RouteMethods
{
    /// <summary>The methods a 405 or an <c>OPTIONS</c> answer lists for a route without a <c>Methods</c> list, sorted.</summary>
    public static readonly string[] WithoutList = ["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"];

    /// <summary><see cref="WithoutList"/> as an <c>Allow</c> header value.</summary>
    public static readonly string WithoutListAllow = string.Join(", ", WithoutList);

    /// <summary>Whether a route without a <c>Methods</c> list takes <paramref name="method"/>.</summary>
    public static bool TakenWithoutList(string method) => !HttpMethods.IsTrace(method);

    /// <summary>
    /// Whether a route with this <c>Methods</c> list takes HEAD only because it lists GET (RFC 9110 §9.3.2: HEAD is GET
    /// without the content). A route that lists HEAD itself, or another route for the same path that does, takes it
    /// first.
    /// </summary>
    public static bool TakesHeadThroughGet(IReadOnlyList<string> methods)
    {
        var get = false;
        foreach (var method in methods)
        {
            if (HttpMethods.IsHead(method))
            {
                return false;
            }

            get |= HttpMethods.IsGet(method);
        }

        return get;
    }

    /// <summary>Whether the request is <c>OPTIONS *</c> (asterisk-form, RFC 9110 §9.3.7): a question about the gateway itself.</summary>
    public static bool IsAsteriskOptions(HttpContext context) =>
        HttpMethods.IsOptions(context.Request.Method)
        && context.Features.Get<IHttpRequestFeature>()?.RawTarget is "*";

    /// <summary>
    /// The answer to <c>OPTIONS *</c>: 200, no body, and <c>Allow</c> with the methods a route without a <c>Methods</c>
    /// list takes (what the gateway accepts in general; a route may take fewer, or TRACE and other methods it names).
    /// </summary>
    public static void AnswerAsteriskOptions(HttpResponse response)
    {
        response.StatusCode = StatusCodes.Status200OK;
        response.Headers.Allow = WithoutListAllow;
        response.ContentLength = 0;
    }

    /// <summary>Whether two routes' method lists (empty: <see cref="TakenWithoutList"/>) share a method.</summary>
    public static bool Overlap(IReadOnlyList<string> a, IReadOnlyList<string> b)
    {
        if (a.Count == 0 || b.Count == 0)
        {
            var listed = a.Count == 0 ? b : a;
            return listed.Count == 0 || listed.Any(TakenWithoutList);
        }

        return a.Intersect(b, StringComparer.Ordinal).Any();
    }
}
