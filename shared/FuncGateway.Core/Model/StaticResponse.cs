using System.Text;
using Microsoft.AspNetCore.Http;

namespace FuncGateway.Model;

/// <summary>
/// A response the gateway serves from configuration (a route's <c>Fallback</c>, a <c>FixedResponse</c>): status,
/// headers and body, validated and encoded once when the route is compiled.
/// </summary>
internal sealed class StaticResponse
{
    /// <summary>The media type of a body whose headers name none.</summary>
    public const string DefaultContentType = "text/plain; charset=utf-8";

    // Framing and connection headers are the server's to write.
    private static readonly HashSet<string> ForbiddenHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Proxy-Connection", "TE", "Trailer", "Transfer-Encoding", "Upgrade", "Content-Length",
    };

    private readonly KeyValuePair<string, string>[] _headers;
    private readonly byte[] _body;
    private readonly bool _hasBody;

    private StaticResponse(int status, KeyValuePair<string, string>[] headers, byte[]? body)
    {
        Status = status;
        _headers = headers;
        _hasBody = body is not null;
        _body = body ?? [];
    }

    /// <summary>The status code.</summary>
    public int Status { get; }

    /// <summary>The body's length in bytes.</summary>
    public int BodyLength => _body.Length;

    /// <summary>
    /// Validates a response named <paramref name="property"/> in messages; every problem goes to
    /// <paramref name="errors"/>. A body without <c>Content-Type</c> gets <see cref="DefaultContentType"/>.
    /// </summary>
    public static StaticResponse? Create(string property, int status, IReadOnlyDictionary<string, string>? headers, byte[]? body, List<string> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        var start = errors.Count;
        if (status is < 200 or > 599)
        {
            errors.Add($"{property} status {status} is outside 200–599.");
        }
        else if (body is { Length: > 0 } && status is StatusCodes.Status204NoContent or StatusCodes.Status205ResetContent or StatusCodes.Status304NotModified)
        {
            // RFC 9110 §15.3.5, §15.3.6, §15.4.5: none of these has content; Kestrel refuses to write one (a bare 500 to every request).
            errors.Add($"{property} status {status} cannot have a body.");
        }

        var list = new List<KeyValuePair<string, string>>();
        var hasContentType = false;
        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
        {
            if (!HttpSyntax.IsToken(name))
            {
                errors.Add($"{property} header name '{PrintableText.Of(name)}' is not a valid header name.");
            }
            else if (ForbiddenHeaders.Contains(name))
            {
                errors.Add($"{property} header '{name}' is set by the gateway and may not be configured.");
            }

            // RFC 9110 field values as Kestrel writes them: visible ASCII, space and tab. Anything else (a line break,
            // another control character, "café") would make every response of the route fail as it is written.
            if (value is null || !HttpSyntax.IsFieldValue(value))
            {
                errors.Add($"{property} header '{PrintableText.Of(name)}' needs a single-line value of visible ASCII characters, spaces and tabs (percent-encode others, e.g. filename*=UTF-8''caf%C3%A9.txt).");
            }

            hasContentType |= string.Equals(name, "Content-Type", StringComparison.OrdinalIgnoreCase);
            list.Add(new(name, value ?? ""));
        }

        if (body is not null && !hasContentType)
        {
            list.Add(new("Content-Type", DefaultContentType));
        }

        return errors.Count > start ? null : new StaticResponse(status, [.. list], body);
    }

    /// <summary>The UTF-8 bytes of a text body, or null.</summary>
    public static byte[]? Utf8(string? body) => body is null ? null : Encoding.UTF8.GetBytes(body);

    /// <summary>Writes the response (a <c>HEAD</c> request gets the headers and <c>Content-Length</c> only; a 204 or 304 has no <c>Content-Length</c>); it must not have started.</summary>
    public Task WriteAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var response = context.Response;
        response.Clear();
        response.StatusCode = Status;
        foreach (var (name, value) in _headers)
        {
            response.Headers.Append(name, value);
        }

        // RFC 9110 §8.6: a 204 has no Content-Length, and a 304's may only repeat a 200's, which a configured 304 has none of.
        if (Status is not (StatusCodes.Status204NoContent or StatusCodes.Status304NotModified))
        {
            response.ContentLength = _body.Length;
        }

        return !_hasBody || HttpMethods.IsHead(context.Request.Method)
            ? Task.CompletedTask
            : response.Body.WriteAsync(_body, context.RequestAborted).AsTask();
    }
}
