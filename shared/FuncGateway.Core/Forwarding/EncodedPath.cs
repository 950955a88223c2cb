using System.Buffers;
using FuncGateway.Diagnostics;
using Microsoft.AspNetCore.Http;

namespace FuncGateway.Forwarding;

/// <summary>
/// Refuses a path whose encoded slash or backslash borders a dot segment (<c>/files/..%2Fsecrets</c>,
/// <c>/a/..\b</c>) before routing: the upstream receives encoded slashes as the client sent them
/// (<see cref="Model.UpstreamAddress"/>), and one that decodes <c>%2F</c> before removing dot segments would otherwise walk
/// out of the route's path.
/// </summary>
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
}
