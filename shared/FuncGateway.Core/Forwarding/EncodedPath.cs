using System.Buffers;
using FuncGateway.Diagnostics;
using Microsoft.AspNetCore.Http;

namespace FuncGateway.Forwarding;

/// <summary>
/// Refuses a path whose encoded slash or backslash borders a dot segment (<c>/files/..%2Fsecrets</c>,
/// <c>/a/..\b</c>) before routing: the upstream receives encoded slashes as the client sent them
/// (<see cref="Model.UpstreamAddress"/>), and one that decodes <c>%2F</c> before removing dot segments would otherwise walk
/// out of the route's path. So is a segment of dots and spaces that is not removed as a dot segment (<c>...</c>,
/// <c>.. </c>): Windows servers (IIS, http.sys) drop a segment's trailing dots and spaces and read it as <c>..</c>.
/// </summary>
internal static class EncodedPath
{
    private static readonly SearchValues<char> Suspicious = SearchValues.Create("%\\");

    // A segment of dots and spaces other than "." holds one of these; the usual path holds none.
    private static readonly SearchValues<string> DotsAndSpaces = SearchValues.Create(["..", ". ", " ."], StringComparison.Ordinal);

    private static readonly SearchValues<string> Separators = SearchValues.Create(["%2F", "%5C", "\\"], StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// The refusal of a path in which an encoded slash, an encoded backslash or a backslash borders a dot segment;
    /// null for every other path (at once for the usual one, which holds neither '%' nor '\').
    /// </summary>
    public static RequestRefusal? Check(PathString path)
    {
        var value = path.Value.AsSpan();
        if (value.IndexOfAny(DotsAndSpaces) >= 0 && HasDotSegment(value))
        {
            return new RequestRefusal(StatusCodes.Status400BadRequest, ProblemCodes.InvalidPath,
                "The request path has a segment of dots and spaces.",
                "A path segment such as '...' or '.. ' reads as '..' on servers that drop trailing dots and spaces (Windows, IIS); it is not accepted.");
        }

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
                if (IsDotSegment(piece))
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
    /// Whether <paramref name="segment"/> is a dot segment once a server drops its trailing dots and spaces, as Windows
    /// servers do: dots and spaces only, at least one dot (<c>.</c>, <c>..</c>, <c>...</c>, <c>.. </c>, <c>. .</c>).
    /// </summary>
    public static bool IsDotSegment(ReadOnlySpan<char> segment) => segment.Contains('.') && !segment.ContainsAnyExcept('.', ' ');

    private static bool HasDotSegment(ReadOnlySpan<char> path)
    {
        foreach (var range in path.Split('/'))
        {
            if (IsDotSegment(path[range]))
            {
                return true;
            }
        }

        return false;
    }
}

/// <summary>
/// How a lenient upstream server may read a path the gateway routes literally: <c>%2F</c>, <c>%5C</c> and <c>\</c> as
/// <c>/</c> (servers that decode encoded slashes, Windows servers), empty segments merged (<c>//</c>), <c>;</c> path
/// parameters dropped (Java servlet containers), trailing dots and spaces of a segment dropped (Windows). A request whose path,
/// read that way, belongs to another route than the one it matched is refused: <c>/api/admin%2Fusers</c> must not reach
/// the upstream through the anonymous <c>/api/{**rest}</c> while <c>/api/admin/{**rest}</c> asks for a token.
/// </summary>
internal static class AmbiguousPath
{
    private static readonly SearchValues<char> Triggers = SearchValues.Create("%\\;");

    private static readonly char[] TrailingDotsAndSpaces = ['.', ' '];

    /// <summary>The lenient reading of <paramref name="path"/>, or null when it reads the same (at once for the usual path).</summary>
    public static string? Lenient(string path)
    {
        var span = path.AsSpan();
        if (span.IndexOfAny(Triggers) < 0 && !span.Contains("//", StringComparison.Ordinal) && !span.Contains("./", StringComparison.Ordinal)
            && !span.Contains(" /", StringComparison.Ordinal) && !span.EndsWith('.') && !span.EndsWith(' '))
        {
            return null;
        }

        var decoded = path.Replace("%2F", "/", StringComparison.OrdinalIgnoreCase).Replace("%5C", "/", StringComparison.OrdinalIgnoreCase).Replace('\\', '/');
        var lenient = new System.Text.StringBuilder(decoded.Length);
        foreach (var range in decoded.AsSpan().Split('/'))
        {
            var segment = decoded.AsSpan(range);
            var parameters = segment.IndexOf(';');
            if (parameters >= 0)
            {
                segment = segment[..parameters];
            }

            // Windows drops a segment's trailing dots and spaces alike ("admin. " is "admin"); a dot segment stays.
            if (segment.ContainsAnyExcept('.', ' '))
            {
                segment = segment.TrimEnd(TrailingDotsAndSpaces);
            }
            else
            {
                segment = segment.TrimEnd(' ');
            }

            if (segment.Length > 0)
            {
                lenient.Append('/').Append(segment);
            }
        }

        var result = lenient.Length == 0 ? "/" : lenient.ToString();
        return result == path.TrimEnd('/') || (result == "/" && path == "/") ? null : result;
    }

    /// <summary>
    /// The refusal when <paramref name="path"/>, read leniently, matches another route than <paramref name="matched"/>
    /// or lies under <paramref name="reservedPrefix"/> (the admin surface, which no route may claim); null otherwise.
    /// </summary>
    public static RequestRefusal? Check<TRoute>(Routing.RouteMatcher<TRoute> matcher, HttpRequest request, string path, TRoute matched, string reservedPrefix)
        where TRoute : class
    {
        if (Lenient(path) is not { } lenient)
        {
            return null;
        }

        if (lenient.StartsWith(reservedPrefix, StringComparison.OrdinalIgnoreCase)
            && (lenient.Length == reservedPrefix.Length || lenient[reservedPrefix.Length] == '/'))
        {
            // "//_gateway/routes" or "/_gateway;x/routes" is no admin request here, but a catch-all route would hand it to
            // an upstream that reads it as "/_gateway/routes" (another gateway, say): the prefix is reserved in every reading.
            return new RequestRefusal(StatusCodes.Status400BadRequest, ProblemCodes.InvalidPath,
                "The request path reads as the gateway's admin surface on servers that normalise it.",
                $"An encoded slash or backslash, '//', a ';' parameter or a trailing dot or space makes this path one under {reservedPrefix}/ on some servers; send the path in its plain form.");
        }

        var other = matcher.Match(request, request.Method, lenient);
        if (other.Outcome != Routing.RouteMatchOutcome.Matched || ReferenceEquals(other.Route, matched))
        {
            return null;
        }

        return new RequestRefusal(StatusCodes.Status400BadRequest, ProblemCodes.InvalidPath,
            "The request path reads as another route's path on servers that normalise it.",
            "An encoded slash or backslash, '//', a ';' parameter or a trailing dot or space makes this path another route's on some servers; send the path in its plain form.");
    }
}
