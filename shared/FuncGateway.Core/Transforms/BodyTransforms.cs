using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using FuncGateway.Diagnostics;
using FuncGateway.Model;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace FuncGateway.Transforms;

/// <summary>
/// A JSON Pointer (RFC 6901) with one extension: a <c>*</c> step that meets an array means every element of it (on an
/// object it is the member named <c>*</c>, as in RFC 6901). Parsed once when the route is compiled.
/// </summary>
internal sealed class JsonPointer
{
    private readonly string[] _steps;

    private JsonPointer(string text, string[] steps)
    {
        Text = text;
        _steps = steps;
    }

    public string Text { get; }

    /// <summary>The pointer, or null (with the reason) when <paramref name="text"/> is not one, or points at the whole document.</summary>
    public static JsonPointer? Parse(string text, out string? error)
    {
        error = null;
        if (text.Length < 2 || text[0] != '/')
        {
            error = $"'{PrintableText.Of(text)}' is not a JSON Pointer to a member (such as /customer/name or /items/*/cost).";
            return null;
        }

        var raw = text[1..].Split('/');
        var steps = new string[raw.Length];
        for (var i = 0; i < raw.Length; i++)
        {
            var step = raw[i];
            for (var j = 0; j < step.Length; j++)
            {
                if (step[j] == '~' && (j + 1 == step.Length || step[j + 1] is not ('0' or '1')))
                {
                    error = $"'{PrintableText.Of(text)}' is not a valid JSON Pointer: '~' must be followed by 0 or 1.";
                    return null;
                }
            }

            steps[i] = step.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal);
        }

        return new JsonPointer(text, steps);
    }

    /// <summary>True when a step is <c>*</c> (the pointer may reach several values).</summary>
    public bool HasWildcard => Array.IndexOf(_steps, "*") >= 0;

    /// <summary>True when the last step is <c>*</c> (it names array elements, not a member).</summary>
    public bool EndsWithWildcard => _steps[^1] == "*";

    /// <summary>Removes every value the pointer reaches; true when something was removed.</summary>
    public bool Remove(JsonNode? root) => Remove(root, 0);

    /// <summary>Detaches the one value a pointer without <c>*</c> reaches; false when it reaches nothing.</summary>
    public bool TryTake(JsonNode? root, out JsonNode? value)
    {
        var node = root;
        for (var i = 0; i < _steps.Length - 1 && node is not null; i++)
        {
            node = Child(node, _steps[i]);
        }

        value = null;
        var step = _steps[^1];
        switch (node)
        {
            case JsonObject obj when obj.TryGetPropertyValue(step, out value):
                obj.Remove(step);
                return true;
            case JsonArray array when Index(step, array) is { } at:
                value = array[at];
                array.RemoveAt(at);
                return true;
            default:
                return false;
        }
    }

    /// <summary>
    /// Puts <paramref name="value"/>'s result where the pointer reaches (every element for a <c>*</c> step), creating
    /// missing objects on the way (not before a <c>*</c> step); with <paramref name="onlyIfMissing"/>, only where there is no value or <c>null</c>.
    /// True when something was set.
    /// </summary>
    public bool Set(JsonNode? root, Func<JsonNode?> value, bool onlyIfMissing) => Set(root, 0, value, onlyIfMissing);

    private bool Set(JsonNode? node, int index, Func<JsonNode?> value, bool onlyIfMissing)
    {
        var step = _steps[index];
        var last = index == _steps.Length - 1;
        switch (node)
        {
            case JsonObject obj:
                obj.TryGetPropertyValue(step, out var child);
                if (last)
                {
                    if (onlyIfMissing && child is not null)
                    {
                        return false;
                    }

                    obj[step] = value();
                    return true;
                }

                if (child is null)
                {
                    if (Array.IndexOf(_steps, "*", index + 1) >= 0)
                    {
                        // Nothing to set in: an array to walk is not made up.
                        return false;
                    }

                    child = new JsonObject();
                    obj[step] = child;
                }

                return Set(child, index + 1, value, onlyIfMissing);
            case JsonArray array when step == "*" && !last:
                var changed = false;
                foreach (var element in array)
                {
                    changed |= Set(element, index + 1, value, onlyIfMissing);
                }

                return changed;
            case JsonArray array when Index(step, array) is { } at:
                if (!last)
                {
                    return Set(array[at], index + 1, value, onlyIfMissing);
                }

                if (onlyIfMissing && array[at] is not null)
                {
                    return false;
                }

                array[at] = value();
                return true;
            default:
                return false;
        }
    }

    private static JsonNode? Child(JsonNode node, string step) => node switch
    {
        JsonObject obj => obj[step],
        JsonArray array when Index(step, array) is { } at => array[at],
        _ => null,
    };

    private static int? Index(string step, JsonArray array) =>
        int.TryParse(step, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var at)
        && at < array.Count && (step.Length == 1 || step[0] != '0') ? at : null;

    private bool Remove(JsonNode? node, int index)
    {
        var step = _steps[index];
        var last = index == _steps.Length - 1;
        switch (node)
        {
            case JsonObject obj:
                if (last)
                {
                    return obj.Remove(step);
                }

                return obj.TryGetPropertyValue(step, out var child) && Remove(child, index + 1);
            case JsonArray array when step == "*":
                if (last)
                {
                    var had = array.Count > 0;
                    array.Clear();
                    return had;
                }

                var removed = false;
                foreach (var element in array)
                {
                    removed |= Remove(element, index + 1);
                }

                return removed;
            case JsonArray array when Index(step, array) is { } at:
                if (last)
                {
                    array.RemoveAt(at);
                    return true;
                }

                return Remove(array[at], index + 1);
            default:
                return false;
        }
    }
}

/// <summary>One operation of a route's response body transform, applied to the parsed JSON document in list order.</summary>
internal abstract class ResponseJsonOperation
{
    /// <summary>Applies the operation; true when the document changed.</summary>
    public abstract bool Apply(JsonNode? document, GatewayRequestFeature feature);

    /// <summary>Applies the operation to the whole response (it may replace the document); true when it changed.</summary>
    public virtual bool Apply(ref JsonNode? document, GatewayResponseTransformContext context) => Apply(document, context.Feature);
}

/// <summary>
/// Wraps a 2xx JSON body in an envelope: <c>{"data": body, "meta": {"requestId", "timestamp", "totalCount", "links"}}</c>,
/// with the total from the upstream's <c>X-Total-Count</c> and the links from its <c>Link</c> header (targets without
/// scheme and host: the upstream's address is internal).
/// </summary>
internal sealed class ResponseEnvelopeOperation(string data, string meta, TimeProvider time) : ResponseJsonOperation
{
    public override bool Apply(JsonNode? document, GatewayRequestFeature feature) => false;

    public override bool Apply(ref JsonNode? document, GatewayResponseTransformContext context)
    {
        var response = context.HttpContext.Response;
        if (response.StatusCode is < 200 or > 299)
        {
            return false;
        }

        var metadata = new JsonObject
        {
            ["requestId"] = GatewayProblem.TraceId(context.HttpContext),
            ["timestamp"] = time.GetUtcNow().UtcDateTime.ToString("yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fff'Z'", System.Globalization.CultureInfo.InvariantCulture),
        };
        if (long.TryParse(response.Headers["X-Total-Count"].ToString(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var total))
        {
            metadata["totalCount"] = total;
        }

        var links = new JsonObject();
        foreach (var value in response.Headers.Link)
        {
            if (value is not null)
            {
                AddLinks(value, links);
            }
        }

        if (links.Count > 0)
        {
            metadata["links"] = links;
        }

        document = new JsonObject { [data] = document, [meta] = metadata };
        return true;
    }

    /// <summary>
    /// Reads <c>&lt;target&gt;; rel="next"</c> entries (RFC 8288) into rel → target without scheme and host; a target
    /// that would then name another host (<c>//host/…</c>) is left out.
    /// </summary>
    internal static void AddLinks(string header, JsonObject links)
    {
        foreach (var entry in header.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var close = entry.IndexOf('>', StringComparison.Ordinal);
            if (!entry.StartsWith('<') || close < 0)
            {
                continue;
            }

            var target = entry[1..close];
            if (Uri.TryCreate(target, UriKind.Absolute, out var absolute) && absolute.Scheme is "http" or "https")
            {
                target = absolute.PathAndQuery;
            }

            // A path that starts with "//" (or "/\") names another host to a browser: http://10.1.2.3//evil.example/
            // would become //evil.example/, and an upstream that builds its links from the request path lets a client
            // choose that path (/orders//evil.example/ after a StripPrefix). Such a link is left out.
            if (target.StartsWith("//", StringComparison.Ordinal) || target.StartsWith("/\\", StringComparison.Ordinal))
            {
                continue;
            }

            foreach (var parameter in entry[(close + 1)..].Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                if (parameter.StartsWith("rel=", StringComparison.OrdinalIgnoreCase))
                {
                    foreach (var rel in parameter[4..].Trim('"').Split(' ', StringSplitOptions.RemoveEmptyEntries))
                    {
                        links[rel.ToLowerInvariant()] = target;
                    }
                }
            }
        }
    }
}

/// <summary>
/// Removes the fields a JSON Pointer reaches (also inside arrays, with <c>*</c>) unless the caller has one of the
/// roles or one of the scopes that may see them. Without roles and scopes: always removed.
/// </summary>
internal sealed class ResponseBodyRemoveOperation(JsonPointer pointer, string[] unlessRoles, string[] unlessScopes) : ResponseJsonOperation
{
    public JsonPointer Pointer => pointer;

    public override bool Apply(JsonNode? document, GatewayRequestFeature feature) => !MaySee(feature.Identity) && pointer.Remove(document);

    private bool MaySee(GatewayIdentity? identity)
    {
        if (identity is null)
        {
            return false;
        }

        foreach (var role in unlessRoles)
        {
            if (identity.Roles.Contains(role, StringComparer.Ordinal))
            {
                return true;
            }
        }

        foreach (var scope in unlessScopes)
        {
            if (identity.Scopes.Contains(scope, StringComparer.Ordinal))
            {
                return true;
            }
        }

        return false;
    }
}

/// <summary>
/// A route's JSON response body operations, in list order, as one buffered transform: the body is parsed once, every
/// operation applied, and the result written once with its <c>Content-Length</c>. An empty body passes. A body the
/// gateway cannot read (compressed although the gateway asked for identity, or not JSON) is never passed on
/// half-transformed: the client gets 502 problem+json and the reason is logged.
/// </summary>
internal sealed class ResponseJsonBodyTransform(ResponseJsonOperation[] operations, ILogger logger) : GatewayResponseTransform
{
    // A repeated member ({"a":1,"a":2}) is refused as not JSON: parsers disagree on which one counts, and the parsed
    // node would fail (a 500) when first read.
    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 64, AllowDuplicateProperties = false };

    public IReadOnlyList<ResponseJsonOperation> Operations => operations;

    public override bool NeedsBody => true;

    public override ValueTask ApplyAsync(GatewayResponseTransformContext context)
    {
        if (context.ProxyResponse is not { } upstream || !context.IsBodyBuffered || context.Body.IsEmpty)
        {
            return ValueTask.CompletedTask;
        }

        var routeId = context.Feature.Route.Definition.Id;
        if (RefusedAsEncoded(context, upstream, logger))
        {
            return ValueTask.CompletedTask;
        }

        try
        {
            var document = JsonBody.Parse(context.Body.Span, DocumentOptions);
            var changed = false;
            foreach (var operation in operations)
            {
                changed |= operation.Apply(ref document, context);
                if (context.IsRefused)
                {
                    return ValueTask.CompletedTask;
                }
            }

            if (changed)
            {
                context.Body = JsonSerializer.SerializeToUtf8Bytes(document);
            }
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            // Not JSON, not UTF-8, or a string escaping half a surrogate pair, which cannot be decoded or written again.
            TransformsLog.ResponseBodyNotJson(logger, routeId, (int)upstream.StatusCode, ex.Message);
            Refuse(context, ProblemCodes.InvalidResponseBody, "The upstream's response could not be transformed.",
                "The route transforms JSON response bodies; the upstream's body is not JSON.");
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// Refuses (502 <c>response_body_encoded</c>, logged) an upstream body that is compressed although the gateway
    /// asked for identity: it cannot be read, and is never passed on half-transformed. True when it did.
    /// </summary>
    internal static bool RefusedAsEncoded(GatewayResponseTransformContext context, HttpResponseMessage upstream, ILogger logger)
    {
        if (!IsEncoded(upstream.Content.Headers.ContentEncoding))
        {
            return false;
        }

        TransformsLog.ResponseBodyEncoded(logger, context.Feature.Route.Definition.Id, string.Join(", ", upstream.Content.Headers.ContentEncoding));
        Refuse(context, ProblemCodes.ResponseBodyEncoded, "The upstream's response is compressed and cannot be transformed.",
            "The route transforms response bodies; the upstream ignored Accept-Encoding: identity.");
        return true;
    }

    internal static bool IsEncoded(IEnumerable<string> encodings)
    {
        foreach (var encoding in encodings)
        {
            if (!string.Equals(encoding, "identity", StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Replaces the upstream's answer with the gateway's 502: none of the upstream's body or content headers pass.</summary>
    internal static void Refuse(GatewayResponseTransformContext context, string code, string title, string detail, Action<Utf8JsonWriter>? extensions = null)
    {
        var response = context.HttpContext.Response;
        response.Headers.Clear();
        response.StatusCode = StatusCodes.Status502BadGateway;
        response.ContentType = GatewayProblem.ContentType;
        response.Headers.CacheControl = "no-store";
        context.Body = GatewayProblem.Create(context.HttpContext, StatusCodes.Status502BadGateway, code, title, detail, extensions);
        context.IsRefused = true;
    }
}

/// <summary>
/// Turns an upstream error (a status in the set) that is not already <c>application/problem+json</c> into the
/// gateway's problem+json with the same status: <c>upstream_rejected</c> for 4xx, <c>upstream_error</c> for 5xx. None
/// of the upstream's body or content headers reach the client (an error page may carry stack traces or internal names).
/// </summary>
internal sealed class ResponseProblemTransform(Func<int, bool> applies) : GatewayResponseTransform
{
    private static readonly string[] ContentHeaders = ["Content-Type", "Content-Encoding", "Content-Language", "Content-Location", "Content-Disposition", "Content-MD5", "Content-Range", "ETag", "Last-Modified"];

    public override bool NeedsBody => true;

    public override ValueTask ApplyAsync(GatewayResponseTransformContext context)
    {
        var response = context.HttpContext.Response;
        var status = response.StatusCode;
        if (context.ProxyResponse is null || !context.IsBodyBuffered || !applies(status) || HttpMethods.IsHead(context.HttpContext.Request.Method)
            || (response.ContentType is { } type && type.StartsWith(GatewayProblem.ContentType, StringComparison.OrdinalIgnoreCase)))
        {
            return ValueTask.CompletedTask;
        }

        foreach (var header in ContentHeaders)
        {
            response.Headers.Remove(header);
        }

        response.ContentType = GatewayProblem.ContentType;
        var (code, title) = status < 500
            ? (ProblemCodes.UpstreamRejected, "The upstream rejected the request.")
            : (ProblemCodes.UpstreamError, "The upstream failed to handle the request.");
        context.Body = GatewayProblem.Create(context.HttpContext, status, code, title,
            Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status) is { Length: > 0 } phrase ? $"The upstream answered {status} {phrase}." : $"The upstream answered {status}.");
        return ValueTask.CompletedTask;
    }
}

/// <summary>
/// Asks the upstream for the whole, uncompressed body on a route that transforms response bodies: the gateway does
/// not decompress (a body it cannot read is refused, never passed on half-transformed), and a transform acts on a
/// whole document. A client's <c>Range</c> (and <c>If-Range</c>) would otherwise get it a slice of the upstream's
/// body, and a slice that is JSON by itself (<c>{"margin":0.4}</c> out of a larger document) is not what the route's
/// removals expect: it would pass them untouched.
/// </summary>
internal sealed class WholePlainBodyTransform : GatewayRequestTransform
{
    private static readonly StringWithQualityHeaderValue Identity = new("identity");

    public override ValueTask ApplyAsync(GatewayRequestTransformContext context)
    {
        var headers = context.ProxyRequest.Headers;
        headers.AcceptEncoding.Clear();
        headers.AcceptEncoding.Add(Identity);
        headers.Remove("Range");
        headers.Remove("If-Range");
        return ValueTask.CompletedTask;
    }
}

/// <summary>The Transforms capability's log lines.</summary>
internal static partial class TransformsLog
{
    [LoggerMessage(7000, LogLevel.Warning, "Route '{RouteId}': the upstream's {Status} response body is not JSON, so its body transforms cannot apply; answered 502 invalid_response_body. {Reason}")]
    public static partial void ResponseBodyNotJson(ILogger logger, string routeId, int status, string reason);

    [LoggerMessage(7001, LogLevel.Warning, "Route '{RouteId}': the upstream compressed its response ({Encoding}) although the gateway asked for identity; answered 502 response_body_encoded.")]
    public static partial void ResponseBodyEncoded(ILogger logger, string routeId, string encoding);

    [LoggerMessage(7002, LogLevel.Information, "Route '{RouteId}': the request body is compressed ({Encoding}), so its body transforms cannot apply; answered 415 request_body_encoded.")]
    public static partial void RequestBodyEncoded(ILogger logger, string routeId, string encoding);

    [LoggerMessage(7003, LogLevel.Information, "Route '{RouteId}': the request body is not JSON, so its body transforms cannot apply; answered 400 invalid_request_body. {Reason}")]
    public static partial void RequestBodyNotJson(ILogger logger, string routeId, string reason);

    [LoggerMessage(7004, LogLevel.Warning, "Route '{RouteId}': the request body could not be transformed; answered 400 request_transform_failed: {Reason}")]
    public static partial void RequestTransformFailed(ILogger logger, string routeId, string reason);

    [LoggerMessage(7005, LogLevel.Warning, "Route '{RouteId}': the upstream's {Status} response could not be transformed; answered 502 {Code}: {Reason}")]
    public static partial void ResponseTransformFailed(ILogger logger, string routeId, int status, string code, string reason);

    [LoggerMessage(7006, LogLevel.Information, "Route '{RouteId}': the SOAP upstream answered with a fault ({FaultCode}); answered 502 upstream_soap_fault.")]
    public static partial void SoapFault(ILogger logger, string routeId, string faultCode);
}
