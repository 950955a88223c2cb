using System.Buffers;
using System.Text;

namespace FuncGateway.Backend;

/// <summary>
/// How identity values travel in headers. A value is its UTF-8 bytes, each byte outside
/// <c>A–Z a–z 0–9 - . _ ~ @ : /</c> written as <c>%XX</c> (upper-case hex), so a value is always printable ASCII and
/// never holds CR, LF, a comma, a space or a quote. A list is its encoded items joined by <c>,</c> (no spaces). Decode
/// with any RFC 3986 percent-decoder (<c>decodeURIComponent</c>, <c>Uri.UnescapeDataString</c>,
/// <c>urllib.parse.unquote</c>), never with a form decoder (which would turn <c>+</c> into a space).
/// </summary>
public static class GatewayHeaderValue
{
    private static readonly SearchValues<char> Safe =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~@:/");

    /// <summary>Encodes one value.</summary>
    public static string Encode(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (!value.AsSpan().ContainsAnyExcept(Safe))
        {
            return value;
        }

        var bytes = Encoding.UTF8.GetBytes(value);
        var builder = new StringBuilder(bytes.Length * 3);
        foreach (var b in bytes)
        {
            var c = (char)b;
            if (b < 0x80 && Safe.Contains(c))
            {
                builder.Append(c);
            }
            else
            {
                builder.Append('%').Append("0123456789ABCDEF"[b >> 4]).Append("0123456789ABCDEF"[b & 0xF]);
            }
        }

        return builder.ToString();
    }

    /// <summary>Encodes a list: each item encoded, joined by a comma.</summary>
    public static string EncodeList(IEnumerable<string> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        return string.Join(',', items.Select(Encode));
    }

    /// <summary>Decodes one value (invalid escapes are kept as they are).</summary>
    public static string Decode(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return value.Contains('%', StringComparison.Ordinal) ? Uri.UnescapeDataString(value) : value;
    }

    /// <summary>Decodes a list header: split on commas, whitespace around items ignored, each item decoded.</summary>
    public static IReadOnlyList<string> DecodeList(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return [];
        }

        var items = value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var result = new string[items.Length];
        for (var i = 0; i < items.Length; i++)
        {
            result[i] = Decode(items[i]);
        }

        return result;
    }
}
