using System.Collections.Frozen;
using System.Net.Http.Headers;
using FuncGateway.Backend;

namespace FuncGateway.Model;

/// <summary>
/// The one place that decides which client request headers never reach an upstream, applied after YARP has copied
/// the client's headers and before the gateway adds its own. Removed on every route:
/// <list type="bullet">
/// <item>the identity namespace (<see cref="GatewayHeaders.IsIdentityNamespace"/>): the gateway writes and signs its own;</item>
/// <item>forwarding headers (<c>X-Forwarded-For/-Proto/-Host/-Port/-Prefix</c>, <c>Forwarded</c>) and host look-alikes
/// (<c>X-Host</c>, <c>X-Original-Host</c>, <c>X-Forwarded-Server</c>) and scheme look-alikes (<see cref="SchemeLookAlikes"/>):
/// only the gateway says who the client is, which host it asked for and over which scheme;</item>
/// <item>client address look-alikes (<see cref="ClientAddressLookAlikes"/>: <c>X-Real-IP</c>, <c>True-Client-IP</c>...),
/// which backends and their frameworks read as the client's address: the gateway's <c>X-Forwarded-For</c> is the one answer;</item>
/// <item>the Functions key header <c>x-functions-key</c>: a platform secret;</item>
/// <item>the headers Azure App Service's front end adds (<see cref="AppServiceFrontEndHeaders"/>: <c>X-ARR-SSL</c>,
/// <c>X-WAWS-Unencoded-URL</c>, <c>DISGUISED-HOST</c>...) and its authentication (Easy Auth) identity and token headers
/// (<c>X-MS-CLIENT-PRINCIPAL*</c>, <c>X-MS-TOKEN-*</c>, <see cref="AppServiceIdentityPrefixes"/>): in the Functions app
/// they describe the gateway's own front end (and may carry a signed-in user's tokens), behind <c>FuncGateway.Server</c>
/// a client wrote them; either way an upstream that trusts them (an App Service app, Microsoft.Identity.Web's App Service
/// authentication) would take them as its own platform's word;</item>
/// <item>method and URL override headers (<see cref="OverrideHeaders"/>), which would let a client bypass the route's
/// method and path rules at a framework that honours them, unless the route lets one of them through by name;</item>
/// <item>look-alikes of the request id and trace context headers (<see cref="TraceContextHeaders"/>), whose exact names
/// the gateway writes itself.</item>
/// </list>
/// Names compare like the identity namespace: case-insensitively and ignoring every character that is not a letter
/// or a digit, because some backends (CGI, PHP, Django's <c>META</c>) map <c>X_HTTP_Method_Override</c> and
/// <c>X-HTTP-Method-Override</c> to the same variable.
/// </summary>
internal static class UntrustedRequestHeaders
{
    /// <summary>The override headers, in their canonical spelling: a route may let one of them through (<c>AllowOverrideHeader</c>).</summary>
    public static readonly IReadOnlyList<string> OverrideHeaders =
        ["X-HTTP-Method-Override", "X-HTTP-Method", "X-Method-Override", "X-Original-URL", "X-Rewrite-URL"];

    /// <summary>Client forwarding headers: removed, then the gateway writes its own <c>X-Forwarded-*</c>.</summary>
    public static readonly IReadOnlyList<string> ForwardingHeaders =
        ["X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "X-Forwarded-Port", "X-Forwarded-Prefix", "Forwarded"];

    /// <summary>Headers that carry a host the client chose, which backends use to build links.</summary>
    public static readonly IReadOnlyList<string> HostLookAlikes = ["X-Host", "X-Original-Host", "X-Forwarded-Server"];

    /// <summary>Headers that claim the scheme the client used (HTTPS offload markers), which backends use to build links and set secure cookies.</summary>
    public static readonly IReadOnlyList<string> SchemeLookAlikes = ["X-Forwarded-Scheme", "X-Forwarded-Ssl", "Front-End-Https", "X-Url-Scheme"];

    /// <summary>Headers other proxies and CDNs use for the client's address, which backends trust as such.</summary>
    public static readonly IReadOnlyList<string> ClientAddressLookAlikes =
    [
        "X-Real-IP", "True-Client-IP", "X-Client-IP", "Client-IP", "X-Cluster-Client-IP", "CF-Connecting-IP", "Fastly-Client-IP",
        "X-Original-Forwarded-For", "X-Azure-ClientIP", "X-Azure-SocketIP",
    ];

    /// <summary>The Azure Functions key header.</summary>
    public const string FunctionsKeyHeader = "x-functions-key";

    /// <summary>
    /// Headers Azure App Service's front end (ARR) adds to every request of a Functions or App Service app: HTTPS and
    /// TLS markers, the unencoded original URL, the site's internal host names, its deployment and log ids, the
    /// client's port. They describe the gateway's own hop, and a framework on App Service reads them as its own.
    /// </summary>
    public static readonly IReadOnlyList<string> AppServiceFrontEndHeaders =
    [
        "X-ARR-SSL", "X-AppService-Proto", "X-Forwarded-TlsVersion", "X-WAWS-Unencoded-URL", "X-ARR-LOG-ID", "DISGUISED-HOST",
        "WAS-DEFAULT-HOSTNAME", "X-SITE-DEPLOYMENT-ID", "X-Client-Port",
    ];

    /// <summary>
    /// Name prefixes of App Service authentication (Easy Auth): the signed-in user (<c>X-MS-CLIENT-PRINCIPAL</c>,
    /// <c>-ID</c>, <c>-NAME</c>, <c>-IDP</c>) and the token store's tokens (<c>X-MS-TOKEN-AAD-ACCESS-TOKEN</c>,
    /// <c>-REFRESH-TOKEN</c>...). Only the platform may write them; the gateway's own identity headers are the answer.
    /// </summary>
    public static readonly IReadOnlyList<string> AppServiceIdentityPrefixes = ["X-MS-CLIENT-PRINCIPAL", "X-MS-TOKEN-"];

    /// <summary>
    /// The request id and trace context the gateway writes for the upstream (<c>TraceContextTransform</c>): the client's
    /// headers of exactly these names are replaced or removed there; their look-alikes (<c>X_Request_Id</c>,
    /// <c>Trace_Parent</c>) are removed here, because a backend that maps them to the same variable would read an id or
    /// a trace the client chose beside the gateway's.
    /// </summary>
    public static readonly IReadOnlyList<string> TraceContextHeaders = ["X-Request-Id", "traceparent", "tracestate", "baggage", "Request-Id", "Correlation-Context"];

    private static readonly string[] NormalizedIdentityPrefixes = [.. AppServiceIdentityPrefixes.Select(Squashed)];

    private static readonly FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>> TraceContextLookup = Normalize(TraceContextHeaders);

    // Enough for the built-in names and the Easy Auth prefixes; IsIn squashes a longer name whole.
    private const int MaxNormalizedLength = 32;

    private static readonly FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>> RemovedLookup =
        Normalize(ForwardingHeaders.Concat(HostLookAlikes).Concat(SchemeLookAlikes).Concat(ClientAddressLookAlikes).Concat(OverrideHeaders)
            .Concat(AppServiceFrontEndHeaders).Append(FunctionsKeyHeader));

    /// <summary>The canonical spelling of an override header name (any case), or null when it is not one.</summary>
    public static string? CanonicalOverrideHeader(string name)
    {
        foreach (var header in OverrideHeaders)
        {
            if (string.Equals(header, name, StringComparison.OrdinalIgnoreCase))
            {
                return header;
            }
        }

        return null;
    }

    /// <summary>
    /// True when a client header of this name must not reach the upstream. <paramref name="allowedOverride"/> (the
    /// route's <c>AllowOverrideHeader</c>) passes under exactly that name, any case; its look-alikes do not.
    /// </summary>
    public static bool IsUntrusted(string name, string? allowedOverride)
    {
        if (allowedOverride is not null && string.Equals(name, allowedOverride, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        if (GatewayHeaders.IsIdentityNamespace(name))
        {
            return true;
        }

        // One squash serves both: the name's letters and digits, lower case (the first 32 for a longer name, enough for
        // the Easy Auth prefixes).
        Span<char> squashed = stackalloc char[MaxNormalizedLength];
        var length = GatewayHeaders.Squash(name, squashed, out var complete);
        return (complete && RemovedLookup.Contains(squashed[..length])) || HasAppServiceIdentityPrefix(squashed[..length])
            || (complete && TraceContextLookup.Contains(squashed[..length]) && !IsTraceContextHeader(name));
    }

    private static bool IsTraceContextHeader(string name)
    {
        foreach (var header in TraceContextHeaders)
        {
            if (string.Equals(header, name, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Whether a squashed name (see <see cref="IsIn"/>) starts with an Easy Auth prefix.</summary>
    private static bool HasAppServiceIdentityPrefix(ReadOnlySpan<char> squashed)
    {
        foreach (var prefix in NormalizedIdentityPrefixes)
        {
            if (squashed.StartsWith(prefix, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Whether <paramref name="name"/>, compared as these headers are (case-insensitively, ignoring every character
    /// that is not a letter or a digit), is in <paramref name="set"/>, a set of names normalized by <see cref="Normalize"/>.
    /// </summary>
    public static bool IsIn(FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>> set, string name)
    {
        Span<char> squashed = stackalloc char[MaxNormalizedLength];
        var length = GatewayHeaders.Squash(name, squashed, out var complete);
        if (complete)
        {
            return set.Contains(squashed[..length]);
        }

        // A set may hold a longer name (a route's own API key or version header): squash all of it. Only a name with
        // more than 32 letters and digits gets here; one over 256 characters costs an array.
        Span<char> whole = name.Length <= 256 ? stackalloc char[256] : new char[name.Length];
        length = GatewayHeaders.Squash(name, whole, out _);
        return set.Contains(whole[..length]);
    }

    /// <summary>
    /// Removes every header whose name is in <paramref name="set"/> as <see cref="IsIn"/> compares (one pass; nothing
    /// is allocated unless a header is removed).
    /// </summary>
    public static void RemoveLookAlikes(HttpRequestHeaders headers, FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>> set)
    {
        List<string>? doomed = null;
        foreach (var header in headers.NonValidated)
        {
            if (IsIn(set, header.Key))
            {
                (doomed ??= []).Add(header.Key);
            }
        }

        if (doomed is not null)
        {
            foreach (var name in doomed)
            {
                headers.Remove(name);
            }
        }
    }

    /// <summary>A set of header names normalized for <see cref="IsIn"/>.</summary>
    public static FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>> Normalize(IEnumerable<string> names) =>
        names.Select(Squashed).ToFrozenSet(StringComparer.Ordinal).GetAlternateLookup<ReadOnlySpan<char>>();

    private static string Squashed(string name) => new([.. name.Where(char.IsAsciiLetterOrDigit).Select(char.ToLowerInvariant)]);

    /// <summary>
    /// Removes every untrusted header from the upstream request, and every <c>Connection</c> token naming one, so no
    /// later hop can be told to drop what the gateway adds.
    /// </summary>
    public static void Remove(HttpRequestMessage request, string? allowedOverride)
    {
        List<string>? doomed = null;
        foreach (var header in request.Headers.NonValidated)
        {
            if (IsUntrusted(header.Key, allowedOverride))
            {
                (doomed ??= []).Add(header.Key);
            }
        }

        if (doomed is not null)
        {
            foreach (var name in doomed)
            {
                request.Headers.Remove(name);
            }
        }

        if (request.Headers.NonValidated.Contains("Connection"))
        {
            foreach (var token in request.Headers.Connection.ToArray())
            {
                if (IsUntrusted(token, allowedOverride: null))
                {
                    request.Headers.Connection.Remove(token);
                }
            }
        }
    }
}
