using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Yarp.ReverseProxy.Forwarder;

namespace FuncGateway.Model;

/// <summary>
/// The upstream request's address: YARP's, with the client's encoded slashes kept.
/// </summary>
/// <remarks>
/// Kestrel decodes every escape of the request path except <c>%2F</c> (a decoded '/' would change the segments), so
/// <see cref="HttpRequest.Path"/> holds an encoded slash as the three characters <c>%2F</c>. YARP's
/// <see cref="RequestUtilities.MakeDestinationAddress"/> encodes that '%' once more and a bare forwarder sends
/// <c>%252F</c> (dotnet/yarp#1419): an npm scoped package <c>@types%2Fcors</c> reaches the registry as
/// <c>@types%252Fcors</c>. The gateway sends <c>%2F</c> again — unless the client's raw path also holds <c>%25</c>
/// (an encoded '%', which Kestrel decodes, so that <c>%252F</c> and <c>%2F</c> look alike in the decoded path); then
/// it keeps YARP's reading, the one that can never turn an encoded '%' into an encoded slash. Paths that would hide a
/// dot segment behind an encoded slash never get here (<c>EncodedPath.Check</c> refuses them before routing).
/// </remarks>
internal static class UpstreamAddress
{
    /// <summary>
    /// The upstream address for <paramref name="path"/> and <paramref name="query"/> under
    /// <paramref name="destinationPrefix"/>: YARP's, with the client's encoded slashes kept (see the remarks), and the
    /// query byte for byte. <see cref="Uri"/> would otherwise canonicalise it (<c>%7E</c> to <c>~</c>, <c>%41</c> to
    /// <c>A</c>, <c>{</c> to <c>%7B</c>), and an upstream that checks a signature over its raw query (presigned URLs)
    /// would refuse it. The query is only ever printable ASCII here (the server accepted it in a request line); any other
    /// gets <see cref="Uri"/>'s reading.
    /// </summary>
    public static Uri Make(string destinationPrefix, PathString path, QueryString query, HttpContext context)
    {
        var rawQuery = query.HasValue && IsPrintableAscii(query.Value!) ? query.Value! : null;
        var address = RequestUtilities.MakeDestinationAddress(destinationPrefix, path, rawQuery is null ? query : QueryString.Empty);
        var text = address.OriginalString;
        if (path.Value is { } value && value.Contains('%') && KeepsEncodedSlashes(context))
        {
            // YARP's address is prefix (without a trailing '/'), encoded path, encoded query: undo "%252F" in the path only.
            var prefixLength = destinationPrefix.EndsWith('/') ? destinationPrefix.Length - 1 : destinationPrefix.Length;
            var queryLength = rawQuery is null && query.HasValue ? query.ToUriComponent().Length : 0;
            var encodedPath = text.AsSpan(prefixLength, text.Length - prefixLength - queryLength);
            if (encodedPath.IndexOf("%252F", StringComparison.OrdinalIgnoreCase) >= 0)
            {
                var kept = encodedPath.ToString().Replace("%252F", "%2F", StringComparison.Ordinal).Replace("%252f", "%2f", StringComparison.Ordinal);
                text = string.Concat(text.AsSpan(0, prefixLength), kept, text.AsSpan(text.Length - queryLength));
                if (rawQuery is null)
                {
                    return new Uri(text, UriKind.Absolute);
                }
            }
        }

        return rawQuery is null
            ? address
            : new Uri(text + rawQuery, new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true });
    }

    private static bool IsPrintableAscii(string value)
    {
        foreach (var c in value)
        {
            if (c is <= ' ' or > '~' or '#')
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The client's raw path holds no encoded '%', so every "%2F" of the decoded path was an encoded slash.</summary>
    internal static bool KeepsEncodedSlashes(HttpContext context)
    {
        var rawTarget = context.Features.Get<IHttpRequestFeature>()?.RawTarget;
        if (string.IsNullOrEmpty(rawTarget))
        {
            return false;
        }

        var rawPath = rawTarget.AsSpan();
        var queryStart = rawPath.IndexOf('?');
        if (queryStart >= 0)
        {
            rawPath = rawPath[..queryStart];
        }

        return rawPath.IndexOf("%25", StringComparison.Ordinal) < 0;
    }
}
