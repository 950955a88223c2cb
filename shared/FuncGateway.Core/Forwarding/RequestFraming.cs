using System.Buffers;
using FuncGateway.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;
using FuncGateway.Model;

namespace FuncGateway.Forwarding;

/// <summary>
/// Request smuggling hygiene, checked on every request before anything else: a request whose framing two HTTP parsers
/// could read differently is refused with 400 before it can reach an upstream, and the client connection is closed
/// after the answer so no byte of it is read as a next request. Only what the host hands over is visible here; what
/// Kestrel normalises away (a <c>Content-Length</c> of <c>+5</c>, chunk extensions) is checked on the raw bytes by
/// FuncGateway.Server's connection guard, which reports it through <see cref="HostViolations.Header"/>.
/// </summary>
internal static class RequestFraming
{
    /// <summary>What Kestrel leaves of a <c>Content-Length</c> sent together with <c>Transfer-Encoding</c>: it renames it.</summary>
    internal const string KestrelRenamedContentLength = "X-Content-Length";

    private static readonly SearchValues<char> Digits = SearchValues.Create("0123456789");

    private const string ContentLengthDigits = "Content-Length must be plain digits.";

    /// <summary>The first framing rule <paramref name="request"/> breaks, or null.</summary>
    public static RequestRefusal? Check(HttpRequest request)
    {
        var headers = request.Headers;
        if (headers.TryGetValue(HostViolations.Header, out var host))
        {
            return host.ToString() switch
            {
                HostViolations.ContentLength => Framing(ContentLengthDigits),
                HostViolations.LineFeed => Framing("A line of the request head ends with a bare LF; end every line with CRLF."),
                HostViolations.RequestLineTooLong => new RequestRefusal(StatusCodes.Status414UriTooLong, ProblemCodes.UriTooLong,
                    "The request line is too long.", "The request line (method, target and version) is longer than the server's limit."),
                HostViolations.HeadersTooLarge => new RequestRefusal(StatusCodes.Status431RequestHeaderFieldsTooLarge, ProblemCodes.RequestHeadersTooLarge,
                    "The request headers are too large.", "The request headers are larger in total, or more in number, than the server's limits."),
                _ => Framing("The request's framing is malformed."),
            };
        }

        foreach (var header in headers)
        {
            if (!HttpSyntax.IsToken(header.Key))
            {
                return new RequestRefusal(StatusCodes.Status400BadRequest, ProblemCodes.InvalidHeaderName,
                    "A request header name is not a valid token.",
                    $"'{Model.PrintableText.Of(header.Key)}' contains a character outside the RFC 9110 token set.");
            }
        }

        // The gateway is no forward proxy: a CONNECT (other than HTTP/2's extended CONNECT, a WebSocket) names no
        // resource of any route, and no upstream could be sent one.
        if (HttpMethods.IsConnect(request.Method)
            && request.HttpContext.Features.Get<IHttpExtendedConnectFeature>() is not { IsExtendedConnect: true })
        {
            return new RequestRefusal(StatusCodes.Status501NotImplemented, ProblemCodes.MethodNotImplemented,
                "The gateway does not forward CONNECT requests.", "CONNECT opens a tunnel through a forward proxy; this is a gateway for APIs.");
        }

        headers.TryGetValue(HeaderNames.ContentLength, out var contentLength);
        foreach (var value in contentLength)
        {
            var trimmed = (value ?? "").AsSpan().Trim(" \t");
            if (trimmed.Length == 0 || trimmed.ContainsAnyExcept(Digits))
            {
                return Framing(ContentLengthDigits);
            }
        }

        var transferEncoding = headers.TransferEncoding;
        if (transferEncoding.Count > 0)
        {
            if (headers.ContainsKey(HeaderNames.ContentLength) || headers.ContainsKey(KestrelRenamedContentLength))
            {
                return Framing("Transfer-Encoding and Content-Length may not be sent together.");
            }

            if (HttpProtocol.IsHttp10(request.Protocol))
            {
                return Framing("Transfer-Encoding is not defined for HTTP/1.0.");
            }

            if (transferEncoding.Count != 1 || !string.Equals(transferEncoding[0]?.Trim(), "chunked", StringComparison.OrdinalIgnoreCase))
            {
                return Framing("The only transfer coding accepted is a single 'chunked'.");
            }
        }

        if (IsUpgradeAttempt(request) && (request.ContentLength > 0 || transferEncoding.Count > 0))
        {
            return new RequestRefusal(StatusCodes.Status400BadRequest, ProblemCodes.UpgradeWithBody,
                "An upgrade request may not carry a body.", "Send the upgrade request without Content-Length or Transfer-Encoding.");
        }

        // RFC 9110 §9.3.8: a client must not send content in a TRACE request. Forwarded, the body would reach an
        // upstream that echoes the request, and a recipient that expects no body may read it as a further request.
        if (HttpMethods.IsTrace(request.Method)
            && (request.ContentLength > 0 || transferEncoding.Count > 0
                || request.HttpContext.Features.Get<IHttpRequestBodyDetectionFeature>() is { CanHaveBody: true }))
        {
            return new RequestRefusal(StatusCodes.Status400BadRequest, ProblemCodes.TraceWithBody,
                "A TRACE request may not carry a body.", "Send the TRACE request without Content-Length or Transfer-Encoding.");
        }

        return null;
    }

    /// <summary>
    /// The request asks to switch protocols: <c>Connection: upgrade</c> (which is also what makes Kestrel hand the rest
    /// of the connection to an upgrade) together with an <c>Upgrade</c> header.
    /// </summary>
    public static bool IsUpgradeAttempt(HttpRequest request) =>
        HasConnectionUpgrade(request) && !StringValues.IsNullOrEmpty(request.Headers.Upgrade);

    /// <summary>
    /// Whether the request would be forwarded as a tunnel: what YARP forwards as an upgrade (an HTTP/1.1 WebSocket or
    /// SPDY upgrade the server allows) or an HTTP/2 extended CONNECT. Other upgrade tokens (h2c, ...) are forwarded as
    /// plain requests without them.
    /// </summary>
    public static bool IsTunnelRequest(HttpContext context)
    {
        if (context.Features.Get<IHttpExtendedConnectFeature>() is { IsExtendedConnect: true })
        {
            return true;
        }

        if (context.Features.Get<IHttpUpgradeFeature>() is not { IsUpgradableRequest: true })
        {
            return false;
        }

        var upgrade = context.Request.Headers.Upgrade.ToString();
        return string.Equals(upgrade, "websocket", StringComparison.OrdinalIgnoreCase)
            || upgrade.StartsWith("SPDY/", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>
    /// For a request Kestrel may treat as an upgrade: unless the answer is 101 (the connection becomes a tunnel), the
    /// client connection is closed after it, so nothing after the upgrade request's head is read as a new request.
    /// </summary>
    public static void CloseUnlessUpgraded(HttpContext context)
    {
        var request = context.Request;
        if (!HttpProtocol.IsHttp11(request.Protocol) && !HttpProtocol.IsHttp10(request.Protocol))
        {
            return;
        }

        if (!HasConnectionUpgrade(request) && !HttpMethods.IsConnect(request.Method))
        {
            return;
        }

        context.Response.OnStarting(static state =>
        {
            var response = ((HttpContext)state).Response;
            if (response.StatusCode != StatusCodes.Status101SwitchingProtocols)
            {
                response.Headers.Connection = "close";
            }

            return Task.CompletedTask;
        }, context);
    }

    /// <summary>Writes the refusal; on HTTP/1.x the connection is closed after it.</summary>
    public static Task RefuseAsync(HttpContext context, RequestRefusal refusal)
    {
        var request = context.Request;
        if (HttpProtocol.IsHttp11(request.Protocol) || HttpProtocol.IsHttp10(request.Protocol))
        {
            return GatewayProblem.WriteAsync(context, refusal.Status, refusal.Code, refusal.Title, refusal.Detail, new(HeaderNames.Connection, "close"));
        }

        return GatewayProblem.WriteAsync(context, refusal.Status, refusal.Code, refusal.Title, refusal.Detail);
    }

    private static bool HasConnectionUpgrade(HttpRequest request)
    {
        foreach (var token in request.Headers.GetCommaSeparatedValues(HeaderNames.Connection))
        {
            if (string.Equals(token, "upgrade", StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The refusal of a request whose body turned out malformed (a chunked body the server could not parse).</summary>
    public static RequestRefusal MalformedBody() => Framing(
        $"The chunked request body is malformed, or a chunk's extensions are longer than {HostViolations.MaxChunkExtensionBytes} bytes.");

    private static RequestRefusal Framing(string detail) =>
        new(StatusCodes.Status400BadRequest, ProblemCodes.InvalidFraming, "The request's framing is ambiguous or malformed.", detail);
}

/// <summary>What a host's connection guard reports to the core, and the limit it enforces.</summary>
public static class HostViolations
{
    /// <summary>
    /// Added by a host's connection guard to a request head whose raw bytes broke a framing rule (its value says which).
    /// A request carrying it is always refused, so a client that sends it only refuses its own request.
    /// </summary>
    public const string Header = "X-FuncGateway-Framing-Violation";

    /// <summary>A <c>Content-Length</c> value that is not plain digits (e.g. <c>+5</c>), which Kestrel would accept as a number.</summary>
    public const string ContentLength = "content-length";

    /// <summary>A line of the request head ended by a bare LF instead of CRLF.</summary>
    public const string LineFeed = "line-feed";

    /// <summary>A request line over the server's limit (the host ended it at the limit).</summary>
    public const string RequestLineTooLong = "request-line-too-long";

    /// <summary>Request headers over the server's total size or count limit (the host ended the head at the limit).</summary>
    public const string HeadersTooLarge = "headers-too-large";

    /// <summary>The longest extension part (after the chunk size, before the line end) of one chunk-size line.</summary>
    public const int MaxChunkExtensionBytes = 4096;
}

/// <summary>A request the gateway refuses before routing: status, stable code, and what to tell the client.</summary>
internal readonly record struct RequestRefusal(int Status, string Code, string Title, string Detail);
