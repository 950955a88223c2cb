using System.Buffers;
using System.Buffers.Text;
using System.Text.Json;

namespace FuncGateway.Authentication.Jwt;

/// <summary>
/// The strict reading of a compact JWS that IdentityModel does not do (RFC 7515, RFC 7519, RFC 8725): every segment is
/// canonical base64url (no padding, no '+', '/', whitespace or other characters, no non-zero unused bits), header and
/// payload are single JSON objects whose member names are unique at every level (compared after unescaping, so
/// <c>"\u0073ub"</c> repeats <c>sub</c>), <c>exp</c>/<c>nbf</c>/<c>iat</c> are numbers and a <c>kid</c> is a string.
/// Without this, a signed token with two <c>sub</c>s means the first to some parsers and the last to IdentityModel.
/// One pass of <see cref="Utf8JsonReader"/> per segment over bytes decoded into a pooled buffer.
/// </summary>
internal static class JwsCompactFormat
{
    private static readonly SearchValues<char> Base64UrlAlphabet =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");

    /// <summary>
    /// Checks a three-segment token. <paramref name="typ"/> is the header's <c>typ</c> when <paramref name="readTyp"/>
    /// is set and it is a JSON string, else null.
    /// </summary>
    public static JwtDefect Check(string token, bool readTyp, out string? typ)
    {
        typ = null;
        var span = token.AsSpan();
        var firstDot = span.IndexOf('.');
        var secondDot = firstDot < 0 ? -1 : span[(firstDot + 1)..].IndexOf('.');
        if (secondDot < 0)
        {
            return JwtDefect.NotBase64Url;
        }

        secondDot += firstDot + 1;
        var header = span[..firstDot];
        var payload = span[(firstDot + 1)..secondDot];
        var signature = span[(secondDot + 1)..];
        if (!IsCanonicalBase64Url(header) || !IsCanonicalBase64Url(payload) || !IsCanonicalBase64Url(signature))
        {
            return JwtDefect.NotBase64Url;
        }

        // One buffer and one set of name sets serve both segments.
        var buffer = ArrayPool<byte>.Shared.Rent(Base64Url.GetMaxDecodedLength(Math.Max(header.Length, payload.Length)));
        var names = new List<HashSet<string>>(1);
        try
        {
            var length = Base64Url.DecodeFromChars(header, buffer);
            var defect = ScanObject(buffer.AsSpan(0, length), names, isHeader: true, readTyp, ref typ);
            if (defect != JwtDefect.None)
            {
                return defect;
            }

            length = Base64Url.DecodeFromChars(payload, buffer);
            return ScanObject(buffer.AsSpan(0, length), names, isHeader: false, readTyp: false, ref typ);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Unpadded base64url in its one canonical spelling: the bits of the last character that carry no data are zero,
    /// so no two spellings of one signature exist.
    /// </summary>
    internal static bool IsCanonicalBase64Url(ReadOnlySpan<char> value)
    {
        if (value.ContainsAnyExcept(Base64UrlAlphabet))
        {
            return false;
        }

        var unusedBitsMask = (value.Length % 4) switch
        {
            0 => 0,
            1 => -1,
            2 => 0b1111,
            _ => 0b11,
        };

        return unusedBitsMask switch
        {
            0 => true,
            -1 => false,
            _ => (SextetOf(value[^1]) & unusedBitsMask) == 0,
        };
    }

    private static int SextetOf(char c) => c switch
    {
        >= 'A' and <= 'Z' => c - 'A',
        >= 'a' and <= 'z' => c - 'a' + 26,
        >= '0' and <= '9' => c - '0' + 52,
        '-' => 62,
        _ => 63,
    };

    /// <summary>
    /// One segment's JSON. <paramref name="names"/> holds the member names seen, one set per open object (index =
    /// nesting), reused across objects and segments: a plain hash set keeps a token stuffed with members linear.
    /// </summary>
    private static JwtDefect ScanObject(ReadOnlySpan<byte> json, List<HashSet<string>> names, bool isHeader, bool readTyp, ref string? typ)
    {
        // Default reader options are strict JSON: no comments, no trailing commas, one value, depth at most 64.
        var reader = new Utf8JsonReader(json);
        var open = 0;
        var expected = Expect.Any;
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return JwtDefect.NotJsonObject;
            }

            do
            {
                if (expected != Expect.Any)
                {
                    var defect = CheckValue(ref reader, expected, ref typ);
                    expected = Expect.Any;
                    if (defect != JwtDefect.None)
                    {
                        return defect;
                    }
                }

                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject:
                        if (names.Count == open)
                        {
                            names.Add(new HashSet<string>(StringComparer.Ordinal));
                        }
                        else
                        {
                            names[open].Clear();
                        }

                        open++;
                        break;
                    case JsonTokenType.EndObject:
                        open--;
                        break;
                    case JsonTokenType.PropertyName:
                        var name = reader.GetString()!;
                        if (!names[open - 1].Add(name))
                        {
                            return JwtDefect.DuplicateMember;
                        }

                        if (reader.CurrentDepth == 1)
                        {
                            expected = isHeader ? HeaderExpectation(name, readTyp) : PayloadExpectation(name);
                        }

                        break;
                }
            }
            while (reader.Read());
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            // Invalid JSON, or a name that is not valid UTF-8.
            return JwtDefect.NotJsonObject;
        }

        return JwtDefect.None;
    }

    private static Expect HeaderExpectation(string name, bool readTyp) => name switch
    {
        "kid" => Expect.Kid,
        "typ" when readTyp => Expect.Typ,
        _ => Expect.Any,
    };

    private static Expect PayloadExpectation(string name) => name switch
    {
        "exp" or "nbf" or "iat" => Expect.NumericDate,
        _ => Expect.Any,
    };

    private static JwtDefect CheckValue(ref Utf8JsonReader reader, Expect expected, ref string? typ)
    {
        switch (expected)
        {
            case Expect.NumericDate:
                return reader.TokenType == JsonTokenType.Number ? JwtDefect.None : JwtDefect.NumericDateNotNumber;
            case Expect.Kid:
                return reader.TokenType == JsonTokenType.String ? JwtDefect.None : JwtDefect.KidNotString;
            default:
                typ = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                return JwtDefect.None;
        }
    }

    private enum Expect
    {
        Any,
        NumericDate,
        Kid,
        Typ,
    }
}
