using FuncGateway.Model;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Net.Http.Headers;

namespace FuncGateway.Diagnostics;

/// <summary>Stable <c>code</c> values of the problem responses the gateway itself produces.</summary>
public static class ProblemCodes
{
    public const string RouteNotFound = "route_not_found";
    public const string MethodNotAllowed = "method_not_allowed";
    public const string NoConfiguration = "no_configuration";
    public const string UpstreamUnreachable = "upstream_unreachable";
    public const string UpstreamTimeout = "upstream_timeout";
    public const string UpstreamError = "upstream_error";
    public const string NoUpstreamAvailable = "no_upstream_available";
    public const string RequestTooLarge = "request_too_large";
    public const string ResponseTooLarge = "response_too_large";
    public const string BadRequest = "bad_request";
    public const string RequestTimeout = "request_timeout";
    public const string AdminUnauthorized = "admin_unauthorized";
    public const string AdminNotFound = "admin_not_found";

    /// <summary>A client sent <c>FuncGateway:Admin:MaxFailedAttempts</c> wrong admin keys in the window (429, <c>Retry-After</c>).</summary>
    public const string AdminThrottled = "admin_throttled";
    public const string InternalError = "internal_error";
    public const string UnknownHost = "unknown_host";
    public const string InvalidFraming = "invalid_framing";
    public const string InvalidHeaderName = "invalid_header_name";
    public const string UpgradeWithBody = "upgrade_with_body";
    public const string TraceWithBody = "trace_with_body";
    public const string UriTooLong = "uri_too_long";
    public const string RequestHeadersTooLarge = "request_headers_too_large";
    public const string MethodNotImplemented = "method_not_implemented";
    public const string InvalidMaxForwards = "invalid_max_forwards";
    public const string InvalidPath = "invalid_path";

    /// <summary>A request that has passed through a FuncGateway <c>ForwardingLoop.MaxHops</c> times (RFC 8586 <c>CDN-Loop</c>).</summary>
    public const string LoopDetected = "loop_detected";
    public const string UpgradeNotAllowed = "upgrade_not_allowed";
    public const string TunnelLimitReached = "tunnel_limit_reached";

    /// <summary>A WebSocket upgrade from an origin the route's <c>Cors</c> policy does not admit.</summary>
    public const string OriginNotAllowed = "origin_not_allowed";
    public const string InvalidResponseBody = "invalid_response_body";
    public const string ResponseBodyEncoded = "response_body_encoded";

    // [#13 body transforms]
    public const string InvalidRequestBody = "invalid_request_body";
    public const string RequestBodyEncoded = "request_body_encoded";
    public const string RequestTransformFailed = "request_transform_failed";
    public const string ResponseTransformFailed = "response_transform_failed";
    public const string UpstreamSoapFault = "upstream_soap_fault";

    /// <summary>A route's <c>ResponseProblem</c> replaced an upstream 4xx (a 5xx becomes <see cref="UpstreamError"/>).</summary>
    public const string UpstreamRejected = "upstream_rejected";

    // [#17 response aggregation]
    public const string CompositionPartFailed = "composition_part_failed";

    /// <summary>A composition's parts' answers together, or its composed body, are over <c>MaxComposedResponseBytes</c>.</summary>
    public const string CompositionTooLarge = "composition_too_large";
}

/// <summary>
/// Writes RFC 9457 <c>application/problem+json</c> responses: the one error vocabulary of the gateway. Upstream
/// responses are never rewritten; this is only for answers the gateway makes itself.
/// </summary>
public static class GatewayProblem
{
    /// <summary>The media type of every gateway-made error.</summary>
    public const string ContentType = "application/problem+json";

    /// <summary>Writes a problem response unless the response has already started (then it does nothing).</summary>
    public static Task WriteAsync(HttpContext context, int status, string code, string title, string? detail = null) =>
        WriteAsync(context, status, code, title, detail, default);

    /// <summary>Writes a problem response with one extra response header (e.g. Allow, Retry-After, WWW-Authenticate).</summary>
    public static Task WriteAsync(HttpContext context, int status, string code, string title, string? detail, KeyValuePair<string, string> header) =>
        WriteAsync(context, status, code, title, detail, header, extensions: null);

    /// <summary>
    /// Writes a problem response with extension members: <paramref name="extensions"/> writes them into the problem
    /// object, after <c>traceId</c> (e.g. a <c>violations</c> array).
    /// </summary>
    public static Task WriteExtendedAsync(HttpContext context, int status, string code, string title, string? detail, Action<Utf8JsonWriter> extensions) =>
        WriteAsync(context, status, code, title, detail, default, extensions);

    private static Task WriteAsync(HttpContext context, int status, string code, string title, string? detail, KeyValuePair<string, string> header, Action<Utf8JsonWriter>? extensions = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        var response = context.Response;
        if (response.HasStarted)
        {
            return Task.CompletedTask;
        }

        response.Clear();
        response.StatusCode = status;
        response.ContentType = ContentType;
        response.Headers.CacheControl = "no-store";
        if (header.Key is not null)
        {
            response.Headers[header.Key] = header.Value;
        }

        var body = Create(context, status, code, title, detail, extensions);
        response.ContentLength = body.Length;
        if (HttpMethods.IsHead(context.Request.Method))
        {
            return Task.CompletedTask;
        }

        return response.Body.WriteAsync(body, context.RequestAborted).AsTask();
    }

    /// <summary>The body of a problem response (for a transform that replaces a buffered body with the gateway's error).</summary>
    public static byte[] Create(HttpContext context, int status, string code, string title, string? detail = null, Action<Utf8JsonWriter>? extensions = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Features.Set(new GatewayProblemFeature(code));
        using var buffer = new MemoryStream(256);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("type", "urn:funcgateway:problem:" + code);
            json.WriteString("title", title);
            json.WriteNumber("status", status);
            if (detail is not null)
            {
                json.WriteString("detail", detail);
            }

            json.WriteString("code", code);
            json.WriteString("traceId", TraceId(context));
            extensions?.Invoke(json);
            json.WriteEndObject();
        }

        return buffer.ToArray();
    }

    /// <summary>
    /// The request's id as clients see it in a problem's <c>traceId</c> and in <c>X-Request-Id</c>: the trace
    /// identifier the pipeline set (the W3C trace id of the request's span, a random trace id without one, or a
    /// client's accepted <c>X-Request-Id</c>).
    /// </summary>
    public static string TraceId(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.TraceIdentifier;
    }

    /// <summary>500 <c>internal_error</c> for a bug in the gateway, logged with the request's method and path (event 3002).</summary>
    internal static Task InternalErrorAsync(HttpContext context, ILogger logger, Exception exception)
    {
        Log.UnhandledException(logger, context.Request.Method, PrintableText.Of(context.Request.Path.Value ?? ""), exception);
        return WriteAsync(context, StatusCodes.Status500InternalServerError, ProblemCodes.InternalError, "The gateway failed to handle the request.");
    }

    /// <summary>413 <c>request_too_large</c>: the body is (or would be) larger than <paramref name="limit"/> bytes.</summary>
    internal static Task RequestTooLargeAsync(HttpContext context, long limit) =>
        WriteAsync(context, StatusCodes.Status413PayloadTooLarge, ProblemCodes.RequestTooLarge,
            "The request body is too large.", $"The limit is {limit} bytes.");

    /// <summary>
    /// 408 <c>request_timeout</c>: the client sent its body slower than the server's minimum request body data rate
    /// (the server closes the connection after it).
    /// </summary>
    internal static Task RequestBodyTooSlowAsync(HttpContext context) =>
        WriteAsync(context, StatusCodes.Status408RequestTimeout, ProblemCodes.RequestTimeout,
            "The request body arrived too slowly.", "The server cut the request off below its minimum request body data rate.");

    internal static Task NotFoundAsync(HttpContext context) =>
        WriteAsync(context, StatusCodes.Status404NotFound, ProblemCodes.RouteNotFound, "No route matches the request.");

    internal static Task MethodNotAllowedAsync(HttpContext context, IReadOnlyList<string> allowed)
    {
        var list = string.Join(", ", allowed);
        return WriteAsync(context, StatusCodes.Status405MethodNotAllowed, ProblemCodes.MethodNotAllowed,
            "The route does not accept this method.", "Allowed: " + list + ".", new(HeaderNames.Allow, list));
    }

    internal static Task UnknownHostAsync(HttpContext context) =>
        WriteAsync(context, StatusCodes.Status421MisdirectedRequest, ProblemCodes.UnknownHost,
            "The gateway does not serve this host.", "Send the request to one of the gateway's public host names.");

    /// <summary>503 before the first snapshot; <paramref name="retryAfter"/> is when the registry is next read (whole seconds).</summary>
    internal static Task NoConfigurationAsync(HttpContext context, string retryAfter) =>
        WriteAsync(context, StatusCodes.Status503ServiceUnavailable, ProblemCodes.NoConfiguration,
            "The gateway has no route configuration yet.", "The route registry could not be read; try again shortly.", new(HeaderNames.RetryAfter, retryAfter));
}
