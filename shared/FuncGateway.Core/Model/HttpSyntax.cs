using System.Buffers;

namespace FuncGateway.Model;

/// <summary>RFC 9110 syntax shared by every capability that checks header names, methods or media-type parts.</summary>
internal static class HttpSyntax
{
    /// <summary>RFC 9110 §5.6.2 <c>tchar</c>: the characters a token may contain.</summary>
    public static readonly SearchValues<char> TokenChars =
        SearchValues.Create("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");

    /// <summary>True when <paramref name="value"/> is a non-empty RFC 9110 token (a valid header name or method).</summary>
    public static bool IsToken(ReadOnlySpan<char> value) => value.Length > 0 && !value.ContainsAnyExcept(TokenChars);
}
