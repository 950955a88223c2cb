using System.Buffers;
using FuncGateway.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Yarp.ReverseProxy.Forwarder;

namespace FuncGateway.Forwarding;

/// <summary>
/// Encoded slashes in the request path: forwarded as the client sent them, and refused where they would hide a dot
/// segment.
/// </summary>
/// <remarks>
/// Kestrel decodes every escape of the request path except <c>%2F</c> (a decoded '/' would change the segments), so
/// <see cref="HttpRequest.Path"/> holds an encoded slash as the three characters <c>%2F</c>. YARP's
/// <see cref="RequestUtilities.MakeDestinationAddress"/> encodes that '%' once more and a bare forwarder sends
/// <c>%252F</c> (dotnet/yarp#1419): an npm scoped package <c>@types%2Fcors</c> reaches the registry as
/// <c>@types%252Fcors</c>. The gateway sends <c>%2F</c> again — unless the client's raw path also holds <c>%25</c>
/// (an encoded '%', which Kestrel decodes, so that <c>%252F</c> and <c>%2F</c> look alike in the decoded path); then
/// it keeps YARP's reading, the one that can never turn an encoded '%' into an encoded slash.
/// Because the upstream then sees encoded slashes, a path whose encoded slash or backslash borders a dot segment
/// (<c>/files/..%2Fsecrets</c>, <c>/a/..\b</c>) is refused before routing: an upstream that decodes <c>%2F</c> before
/// removing dot segments would otherwise walk out of the route's path.
/// </remarks>
internal static class EncodedPath
{
    private static readonly SearchValues<char> Suspicious = SearchValues.Create("%\\");

    private static readonly SearchValues<string> Separators = SearchValues.Create(["%2F", "%5C", "\\"], StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// The refusal of a path in which an encoded slash, an encoded backslash or a backslash borders a dot segment;
    /// null for every other path (at once for the usual one, which holds neither '%' nor '\').
    /// </summary>
    public static RequestRefusal? Check(PathString path)
    {
        var value = path.Value.AsSpan();
        if (value.IndexOfAny(Suspicious) < 0)
        {
            return null;
        }

        foreach (var range in value.Split('/'))
        {
            var segment = value[range];
            if (segment.IndexOfAny(Separators) < 0)
            {
                continue;
            }

            // Split the segment at every separator the upstream might decode into one; look for "." and "..".
            while (true)
            {
                var next = segment.IndexOfAny(Separators);
                var piece = next < 0 ? segment : segment[..next];
                if (piece is "." or "..")
                {
                    return new RequestRefusal(StatusCodes.Status400BadRequest, ProblemCodes.InvalidPath,
                        "The request path hides a dot segment behind an encoded slash or a backslash.",
                        "A path segment such as '..%2F' or '..\\' is not accepted; send the path with plain '/' separators.");
                }

                if (next < 0)
                {
                    break;
                }

                segment = segment[(next + (segment[next] == '\\' ? 1 : 3))..];
            }
        }

        return null;
    }

    /// <summary>
    /// The upstream address for <paramref name="path"/> and <paramref name="query"/> under
    /// <paramref name="destinationPrefix"/>: YARP's, with the client's encoded slashes kept (see the remarks).
    /// </summary>
    public static Uri MakeDestinationAddress(string destinationPrefix, PathString path, QueryString query, HttpContext context)
    {
        var address = RequestUtilities.MakeDestinationAddress(destinationPrefix, path, query);
        if (path.Value is not { } value || !value.Contains('%') || !KeepsEncodedSlashes(context))
        {
            return address;
        }

        // YARP's address is prefix (without a trailing '/'), encoded path, encoded query: undo "%252F" in the path only.
        var text = address.OriginalString;
        var prefixLength = destinationPrefix.EndsWith('/') ? destinationPrefix.Length - 1 : destinationPrefix.Length;
        var queryLength = query.HasValue ? query.ToUriComponent().Length : 0;
        var encodedPath = text.AsSpan(prefixLength, text.Length - prefixLength - queryLength);
        if (encodedPath.IndexOf("%252F", StringComparison.OrdinalIgnoreCase) < 0)
        {
            return address;
        }

        var kept = encodedPath.ToString().Replace("%252F", "%2F", StringComparison.Ordinal).Replace("%252f", "%2f", StringComparison.Ordinal);
        return new Uri(string.Concat(text.AsSpan(0, prefixLength), kept, text.AsSpan(text.Length - queryLength)), UriKind.Absolute);
    }

    /// <summary>The client's raw path holds no encoded '%', so every "%2F" of the decoded path was an encoded slash.</summary>
    private static bool KeepsEncodedSlashes(HttpContext context)
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
