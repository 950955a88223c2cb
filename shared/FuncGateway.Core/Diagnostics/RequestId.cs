using System.Buffers;
using System.Collections;
using System.Diagnostics;
using Microsoft.AspNetCore.Http;

namespace FuncGateway.Diagnostics;

/// <summary>
/// The request id: sent back on every response in <see cref="HeaderName"/>, sent to the upstream in the same header,
/// written as <c>traceId</c> into problem responses and as <c>RequestId</c> into log scopes, and set as
/// <see cref="HttpContext.TraceIdentifier"/>. It is the W3C trace id of the request's trace (32 lower-case hex digits;
/// recorded or not, the one the upstream's <c>traceparent</c> names), a new random trace id when there is none, or a
/// client's own valid <see cref="HeaderName"/> where <c>FuncGateway:Telemetry:AcceptClientRequestId</c> says so.
/// </summary>
internal static class RequestId
{
    /// <summary>The header that carries the request id, both ways.</summary>
    public const string HeaderName = "X-Request-Id";

    private const int MaxLength = 128;

    private static readonly SearchValues<char> Allowed =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._:+/=");

    /// <summary>Decides the request's id, makes it the trace identifier, and sends it back on the response whatever answers.</summary>
    /// <param name="context">The request.</param>
    /// <param name="activity">The request's span, to tag with a client's id.</param>
    /// <param name="traceId">The request's trace (recorded or not); default when there is none.</param>
    /// <param name="acceptClient">Keep a client's valid id.</param>
    public static string Assign(HttpContext context, Activity? activity, ActivityTraceId traceId, bool acceptClient)
    {
        string? id = null;
        if (acceptClient && context.Request.Headers[HeaderName] is { Count: 1 } given && IsValid(given[0]))
        {
            id = given[0]!;
            if (activity is { IsAllDataRequested: true })
            {
                activity.SetTag(GatewayTelemetry.RequestIdTag, id);
            }
        }

        id ??= (traceId == default ? ActivityTraceId.CreateRandom() : traceId).ToHexString();
        context.TraceIdentifier = id;

        // Set as the response starts, so that neither a problem response (which clears headers) nor an upstream's
        // own X-Request-Id replaces it.
        context.Response.OnStarting(static state =>
        {
            var http = (HttpContext)state;
            http.Response.Headers[HeaderName] = http.TraceIdentifier;
            return Task.CompletedTask;
        }, context);
        return id;
    }

    /// <summary>1-128 characters of letters, digits and <c>-._:+/=</c>: nothing that could break a header, a log line or JSON.</summary>
    public static bool IsValid(string? value) =>
        value is { Length: > 0 and <= MaxLength } && !value.AsSpan().ContainsAnyExcept(Allowed);
}

/// <summary>The log scope of a request: <c>RequestId</c>.</summary>
internal sealed class RequestIdScope(string requestId) : IReadOnlyList<KeyValuePair<string, object?>>
{
    public KeyValuePair<string, object?> this[int index] =>
        index == 0 ? new("RequestId", requestId) : throw new ArgumentOutOfRangeException(nameof(index));

    public int Count => 1;

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
    {
        yield return this[0];
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => "RequestId:" + requestId;
}
