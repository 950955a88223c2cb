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

    /// <summary>RFC 9110 §5.5 field-vchar (visible ASCII), space and tab; obs-text (bytes ≥ 0x80) is not produced.</summary>
    public static readonly SearchValues<char> FieldValueChars = SearchValues.Create(
        "\t !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~");

    /// <summary>True when <paramref name="value"/> may be a header value as written: no CR, LF, other control or non-ASCII character.</summary>
    public static bool IsFieldValue(ReadOnlySpan<char> value) => !value.ContainsAnyExcept(FieldValueChars);
}
