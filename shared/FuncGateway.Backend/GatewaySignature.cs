using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace FuncGateway.Backend;

/// <summary>
/// The signed user context: an HMAC-SHA256, keyed by a shared secret chosen by key id, over a canonical string of
/// the request as the backend receives it. The canonical string is these lines joined by <c>\n</c> (LF), with no
/// trailing newline:
/// <code>
/// FGW1-HMAC-SHA256
/// {X-Gateway-Timestamp}          unix seconds, as sent
/// {X-Gateway-Key-Id}
/// {METHOD}                       upper case
/// {path and query}               the request target exactly as on the wire, e.g. /orders/5?x=1
/// {name}:{value}                 one line per signed header, sorted by lower-case name (ordinal)
/// </code>
/// Signed headers are every <c>X-User-*</c> and <c>X-Consumer-*</c> header and <c>X-Gateway-Auth-Policy</c>; a name is
/// written in lower case, its value with surrounding whitespace removed (several fields of one name joined by
/// <c>,</c>). The signature header is <c>v1=</c> and the lower-case hex of the HMAC of the UTF-8 canonical string.
/// </summary>
public static class GatewaySignature
{
    /// <summary>The first line of the canonical string; changes with the format.</summary>
    public const string Scheme = "FGW1-HMAC-SHA256";

    /// <summary>The prefix of the signature header's value.</summary>
    public const string VersionPrefix = "v1=";

    /// <summary>Shortest accepted secret: 32 bytes (the HMAC-SHA256 block size's half, RFC 2104's recommendation).</summary>
    public const int MinimumKeyBytes = 32;

    /// <summary>Builds the canonical string. <paramref name="headers"/> may hold any headers; only signed ones are used.</summary>
    public static string BuildCanonicalString(
        long timestamp,
        string keyId,
        string method,
        string pathAndQuery,
        IEnumerable<KeyValuePair<string, string>> headers)
    {
        ArgumentNullException.ThrowIfNull(keyId);
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(pathAndQuery);
        ArgumentNullException.ThrowIfNull(headers);

        var signed = new List<KeyValuePair<string, string>>();
        foreach (var (name, value) in headers)
        {
            if (!GatewayHeaders.IsSigned(name))
            {
                continue;
            }

            var lower = name.ToLowerInvariant();
            var trimmed = (value ?? "").Trim();
            var index = signed.FindIndex(h => string.Equals(h.Key, lower, StringComparison.Ordinal));
            if (index >= 0)
            {
                signed[index] = new(lower, signed[index].Value + "," + trimmed);
            }
            else
            {
                signed.Add(new(lower, trimmed));
            }
        }

        signed.Sort(static (a, b) => string.CompareOrdinal(a.Key, b.Key));
        var builder = new StringBuilder(256)
            .Append(Scheme).Append('\n')
            .Append(timestamp.ToString(CultureInfo.InvariantCulture)).Append('\n')
            .Append(keyId).Append('\n')
            .Append(method.ToUpperInvariant()).Append('\n')
            .Append(pathAndQuery);
        foreach (var (name, value) in signed)
        {
            builder.Append('\n').Append(name).Append(':').Append(value);
        }

        return builder.ToString();
    }

    /// <summary>The signature header value for a canonical string: <c>v1=</c> + lower-case hex HMAC-SHA256.</summary>
    public static string Sign(ReadOnlySpan<byte> key, string canonical)
    {
        ArgumentNullException.ThrowIfNull(canonical);
        Span<byte> mac = stackalloc byte[32];
        HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(canonical), mac);
        return VersionPrefix + Convert.ToHexStringLower(mac);
    }

    /// <summary>Compares a received signature header value with the expected one in constant time.</summary>
    public static bool Matches(ReadOnlySpan<byte> key, string canonical, string? received)
    {
        if (received is null || !received.StartsWith(VersionPrefix, StringComparison.Ordinal) || received.Length != VersionPrefix.Length + 64)
        {
            return false;
        }

        Span<byte> expected = stackalloc byte[32];
        HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(canonical), expected);
        Span<byte> given = stackalloc byte[32];
        try
        {
            if (Convert.FromHexString(received.AsSpan(VersionPrefix.Length), given, out _, out var written) != System.Buffers.OperationStatus.Done || written != 32)
            {
                return false;
            }
        }
        catch (FormatException)
        {
            return false;
        }

        return CryptographicOperations.FixedTimeEquals(expected, given);
    }

    /// <summary>Reads a secret from configuration: base64 of at least <see cref="MinimumKeyBytes"/> bytes.</summary>
    public static bool TryDecodeKey(string? text, out byte[] key)
    {
        key = [];
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        try
        {
            key = Convert.FromBase64String(text.Trim());
        }
        catch (FormatException)
        {
            return false;
        }

        return key.Length >= MinimumKeyBytes;
    }
}
