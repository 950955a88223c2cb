using System.Collections.Frozen;
using FuncGateway.Backend;
using FuncGateway.Model;

namespace FuncGateway.Transforms;

/// <summary>What a header transform does to its header.</summary>
internal enum HeaderOperation
{
    Set,
    Append,
    SetIfMissing,
    Remove,
    RenameFrom,
    RenameTo,
}

/// <summary>
/// The names a transform may not touch, or may touch only with values no caller or client chose, checked when the
/// route is compiled. The one place that says which headers and query parameters are the gateway's own.
/// </summary>
internal static class TransformRules
{
    /// <summary>Hop-by-hop and framing headers: the gateway and its HTTP stacks manage them, on both sides.</summary>
    private static readonly FrozenSet<string> Managed = FrozenSet.ToFrozenSet(
        ["Connection", "Keep-Alive", "Proxy-Connection", "TE", "Trailer", "Transfer-Encoding", "Upgrade", "Content-Length",
         "Proxy-Authorization", "Proxy-Authenticate"],
        StringComparer.OrdinalIgnoreCase);

    /// <summary>Request headers that carry a credential the gateway consumes or removes: never copied into a value.</summary>
    private static readonly FrozenSet<string> CredentialHeaders = FrozenSet.ToFrozenSet(
        ["Authorization", "Proxy-Authorization", UntrustedRequestHeaders.FunctionsKeyHeader],
        StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// The request id and trace context the gateway writes for the upstream (<c>X-Request-Id</c>, W3C
    /// <c>traceparent</c>/<c>tracestate</c>/<c>baggage</c>, the legacy <c>Request-Id</c>/<c>Correlation-Context</c>):
    /// a transform that copied client input into them would let a client choose the id the upstream logs and the trace
    /// it joins, past the gateway's trust rules (<c>FuncGateway:Telemetry:*</c>). Compared like the gateway-only headers.
    /// </summary>
    private static readonly FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>> TraceContextHeaders =
        UntrustedRequestHeaders.Normalize(UntrustedRequestHeaders.TraceContextHeaders);

    /// <summary>Query parameters the gateway removes as credentials on every route (the Functions key, <c>access_token</c>).</summary>
    private static readonly string[] CredentialQueryParameters = ["code", "access_token"];

    public static bool IsCredentialHeader(string name) => CredentialHeaders.Contains(name);

    /// <summary>
    /// Request headers whose value, when the route's transforms run, is always the gateway's own (the client's copy is
    /// removed first): renaming one into another header only the gateway speaks for moves no client input.
    /// </summary>
    public static bool IsGatewayWritten(string name) =>
        name.Equals("X-Forwarded-For", StringComparison.OrdinalIgnoreCase) || name.Equals("X-Forwarded-Proto", StringComparison.OrdinalIgnoreCase)
        || name.Equals("X-Forwarded-Host", StringComparison.OrdinalIgnoreCase) || name.Equals("X-Request-Id", StringComparison.OrdinalIgnoreCase);

    /// <summary>True for <c>code</c>, <c>access_token</c> and the route's own credential parameters (<paramref name="routeCredentials"/>).</summary>
    public static bool IsCredentialQueryParameter(string name, IReadOnlyCollection<string> routeCredentials) =>
        CredentialQueryParameters.Contains(name, StringComparer.OrdinalIgnoreCase) || routeCredentials.Contains(name, StringComparer.OrdinalIgnoreCase);

    /// <summary>Why a request transform may not do <paramref name="operation"/> to <paramref name="name"/> with a value from <paramref name="source"/>; null when it may.</summary>
    public static string? CheckRequestHeader(string name, HeaderOperation operation, ValueSource source)
    {
        if (GatewayHeaders.IsIdentityNamespace(name))
        {
            return $"'{name}' is in the gateway's identity namespace (X-User-*, X-Consumer-*, X-Gateway-*, and look-alikes), which only the gateway writes and signs.";
        }

        if (Managed.Contains(name))
        {
            return $"'{name}' is a hop-by-hop or framing header that the gateway manages.";
        }

        if (string.Equals(name, ForwardingLoop.HeaderName, StringComparison.OrdinalIgnoreCase))
        {
            return $"'{name}' carries the gateway's loop detection (RFC 8586), which a transform may not change.";
        }

        if (string.Equals(name, "Host", StringComparison.OrdinalIgnoreCase))
        {
            return operation == HeaderOperation.Set && source <= ValueSource.Gateway
                ? null
                : "'Host' may only be Set explicitly, to a value without caller or client input (use the route's PreserveHost to send the client's).";
        }

        const string GatewayOnly = "forwarding, host, scheme, client address, method or URL override, Functions key, App Service front end or authentication, request id, trace context";
        if (!UntrustedRequestHeaders.IsUntrusted(name, allowedOverride: null) && !UntrustedRequestHeaders.IsIn(TraceContextHeaders, name))
        {
            return null;
        }

        return operation switch
        {
            HeaderOperation.RenameTo when source > ValueSource.Gateway => $"'{name}' is a header only the gateway speaks for ({GatewayOnly}): a client's header cannot be renamed into it.",
            HeaderOperation.Set or HeaderOperation.Append or HeaderOperation.SetIfMissing when source > ValueSource.Gateway =>
                $"'{name}' is a header only the gateway speaks for ({GatewayOnly}): its value may not take caller or client input.",
            _ => null,
        };
    }

    /// <summary><c>Set-Cookie</c> (and the obsolete <c>Set-Cookie2</c>) of a response, <c>Cookie</c> of a request: values whose variables are percent-encoded.</summary>
    public static bool IsCookieHeader(string name, bool isRequest) => isRequest
        ? string.Equals(name, "Cookie", StringComparison.OrdinalIgnoreCase)
        : string.Equals(name, "Set-Cookie", StringComparison.OrdinalIgnoreCase) || string.Equals(name, "Set-Cookie2", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Response headers that carry a URL, an origin or a policy made of them (<c>Location</c>, <c>Refresh</c>, <c>Link</c>,
    /// <c>Content-Security-Policy</c>, …): values whose variables are percent-encoded, so a caller-chosen value (a user
    /// named <c>https://evil.example</c>) stays one path segment or query value and cannot become the URL, an attribute
    /// or a directive of its own.
    /// </summary>
    public static bool IsUrlBearingResponseHeader(string name) => UrlBearingResponseHeaders.Contains(name);

    private static readonly FrozenSet<string> UrlBearingResponseHeaders = FrozenSet.ToFrozenSet(
    [
        "Location", "Content-Location", "Refresh", "Link", "Content-Security-Policy", "Content-Security-Policy-Report-Only",
        "Reporting-Endpoints", "Report-To", "NEL", "Access-Control-Allow-Origin", "Timing-Allow-Origin", "Alt-Svc",
    ], StringComparer.OrdinalIgnoreCase);

    /// <summary>Why a response transform may not do <paramref name="operation"/> to <paramref name="name"/>; null when it may.</summary>
    public static string? CheckResponseHeader(string name, HeaderOperation operation, ValueSource source)
    {
        if (Managed.Contains(name))
        {
            return $"'{name}' is a hop-by-hop or framing header that the gateway manages.";
        }

        return operation is HeaderOperation.Set or HeaderOperation.Append or HeaderOperation.SetIfMissing && source == ValueSource.Client
            ? "a response header may not reflect the client's input ({Header:…}, {Query:…}, {Route:…})."
            : null;
    }
}
