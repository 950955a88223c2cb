using System.Globalization;
using System.Text;
using FuncGateway.Authentication;
using FuncGateway.Diagnostics;
using FuncGateway.Model;
using FuncGateway.Routing;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Net.Http.Headers;

namespace FuncGateway.Forwarding;

/// <summary>
/// <c>Max-Forwards</c> (RFC 9110 §7.6.2) on a <c>TRACE</c> or <c>OPTIONS</c> request about to be forwarded: at 0 the
/// gateway is the final recipient and answers itself; above 0 it forwards the value less one. Other methods carry the
/// header to the upstream unchanged (the RFC defines it for these two only).
/// </summary>
internal static class MaxForwards
{
    /// <summary>Request headers a TRACE echo leaves out whatever the route, besides the route's own API key headers.</summary>
    private static readonly string[] CredentialHeaders = ["Authorization", "Proxy-Authorization", "Cookie", UntrustedRequestHeaders.FunctionsKeyHeader];

    /// <summary>Name fragments of headers that commonly carry a secret (API keys, session ids, tokens, Easy Auth's principal): left out of a TRACE echo too.</summary>
    private static readonly string[] SecretNameFragments = ["auth", "cookie", "key", "token", "secret", "password", "session", "signature", "credential", "principal"];

    /// <summary>Whether <paramref name="method"/> is one <c>Max-Forwards</c> applies to: the only per-request cost for other methods.</summary>
    public static bool AppliesTo(string method) => HttpMethods.IsOptions(method) || HttpMethods.IsTrace(method);

    /// <summary>
    /// Acts on the request's <c>Max-Forwards</c>. False when the request is to be forwarded (the header, if any, now
    /// one less); true when the gateway answered it: at 0 (<c>OPTIONS</c>: 200 with <c>Allow</c>; <c>TRACE</c>: the
    /// request echoed without credentials), or <c>400 invalid_max_forwards</c> for a malformed value.
    /// </summary>
    public static async ValueTask<bool> TryAnswerAsync(HttpContext context, CompiledRoute route, ILogger logger)
    {
        var headers = context.Request.Headers;
        if (!headers.TryGetValue(HeaderNames.MaxForwards, out var values))
        {
            return false;
        }

        if (values.Count != 1 || !TryParse(values[0], out var remaining))
        {
            const string Detail = "Send one Max-Forwards header whose value is a non-negative decimal number.";
            Log.RequestRefused(logger, ProblemCodes.InvalidMaxForwards, Detail);
            await GatewayProblem.WriteAsync(context, StatusCodes.Status400BadRequest, ProblemCodes.InvalidMaxForwards,
                "The Max-Forwards header is malformed.", Detail);
            return true;
        }

        if (remaining > 0)
        {
            headers.MaxForwards = (remaining - 1).ToString(CultureInfo.InvariantCulture);
            return false;
        }

        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        if (HttpMethods.IsOptions(context.Request.Method))
        {
            response.Headers.Allow = AllowOf(route);
            response.ContentLength = 0;
        }
        else
        {
            var echo = Echo(context.Request, route.GetFeature<RouteAuth>()?.CredentialHeaders ?? []);
            response.ContentType = "message/http";
            response.ContentLength = echo.Length;
            await response.Body.WriteAsync(echo, context.RequestAborted);
        }

        return true;
    }

    /// <summary>
    /// The <c>Allow</c> value of a route: its methods (with HEAD when it lists GET), sorted, or those a route without
    /// <c>Methods</c> takes.
    /// </summary>
    public static string AllowOf(CompiledRoute route)
    {
        var methods = route.Definition.Methods;
        if (methods.Count == 0)
        {
            return RouteMethods.WithoutListAllow;
        }

        string[] sorted = RouteMethods.TakesHeadThroughGet(methods) ? [.. methods, HttpMethods.Head] : [.. methods];
        Array.Sort(sorted, StringComparer.Ordinal);
        return string.Join(", ", sorted);
    }

    private static bool TryParse(string? value, out long remaining)
    {
        remaining = 0;
        var digits = (value ?? "").AsSpan().Trim(" \t");
        if (digits.Length == 0 || digits.ContainsAnyExceptInRange('0', '9'))
        {
            return false;
        }

        // More than fits a long is as good as unlimited.
        if (!long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out remaining))
        {
            remaining = long.MaxValue;
        }

        return true;
    }

    /// <summary>
    /// The request as received, as <c>message/http</c> (RFC 9110 §9.3.8), without the headers that carry credentials:
    /// echoing them back is what makes TRACE a way to read cookies and tokens a page cannot otherwise see.
    /// </summary>
    private static byte[] Echo(HttpRequest request, string[] routeCredentialHeaders)
    {
        var target = request.HttpContext.Features.Get<IHttpRequestFeature>()?.RawTarget is { Length: > 0 } raw
            ? raw
            : request.PathBase + request.Path + request.QueryString;
        var text = new StringBuilder();
        text.Append(request.Method).Append(' ').Append(target).Append(' ').Append(request.Protocol).Append("\r\n");
        foreach (var (name, values) in request.Headers)
        {
            if (IsSecret(name, routeCredentialHeaders))
            {
                continue;
            }

            foreach (var value in values)
            {
                text.Append(name).Append(": ").Append(value).Append("\r\n");
            }
        }

        text.Append("\r\n");
        return Encoding.Latin1.GetBytes(text.ToString());
    }

    private static bool IsSecret(string name, string[] routeCredentialHeaders)
    {
        foreach (var header in CredentialHeaders)
        {
            if (string.Equals(header, name, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        foreach (var header in routeCredentialHeaders)
        {
            if (string.Equals(header, name, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        foreach (var fragment in SecretNameFragments)
        {
            if (name.Contains(fragment, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }
}
