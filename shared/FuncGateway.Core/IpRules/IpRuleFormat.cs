using System.Buffers;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using FuncGateway.Model;

namespace FuncGateway.IpRules;

/// <summary>
/// The entries of <c>AllowIps</c> and <c>DenyIps</c>: a single address (<c>203.0.113.7</c>, <c>2001:db8::7</c>) or a
/// CIDR range (<c>10.0.0.0/8</c>, <c>2001:db8::/32</c>), parsed by <see cref="IpRanges"/> like every other address
/// list of the gateway. Stricter than the settings in one way: an IPv4 address must be written as four decimal
/// numbers (<c>10</c> or <c>010.0.0.1</c> would silently mean <c>0.0.0.10</c> and <c>8.0.0.1</c>).
/// </summary>
internal static class IpRuleFormat
{
    private static readonly SearchValues<char> AddressCharacters = SearchValues.Create("0123456789abcdefABCDEF:.");

    /// <summary>Checks every entry of <paramref name="property"/>; a bad one adds an error naming it. Returns the entries as written.</summary>
    public static IReadOnlyList<string> Check(string property, IReadOnlyList<string> entries, List<string> errors)
    {
        Parse(property, entries, errors);
        return entries;
    }

    /// <summary>The ranges of <paramref name="property"/>'s entries; a bad entry adds an error naming it.</summary>
    public static IPNetwork[] Parse(string property, IReadOnlyList<string> entries, List<string> errors)
    {
        ArgumentNullException.ThrowIfNull(entries);
        ArgumentNullException.ThrowIfNull(errors);
        var networks = new IPNetwork[entries.Count];
        for (var i = 0; i < entries.Count; i++)
        {
            if (!TryParse(entries[i], out networks[i], out var error))
            {
                errors.Add($"{property} entry '{PrintableText.Of(entries[i])}' {error}");
            }
        }

        return networks;
    }

    /// <summary>Parses one entry; on failure <paramref name="error"/> says why (a sentence that follows the entry).</summary>
    public static bool TryParse(string entry, out IPNetwork network, out string error)
    {
        ArgumentNullException.ThrowIfNull(entry);
        network = default;
        var slash = entry.IndexOf('/', StringComparison.Ordinal);
        var addressText = slash < 0 ? entry : entry[..slash];
        if (addressText.Contains('%', StringComparison.Ordinal))
        {
            error = "has a zone index ('%…'); write the address without it.";
            return false;
        }

        // IPAddress.TryParse takes more than an operator means: "[::1]:80" (brackets and a port), "10" (0.0.0.10).
        if (addressText.AsSpan().IndexOfAnyExcept(AddressCharacters) >= 0
            || !IPAddress.TryParse(addressText, out var address)
            || !IpRanges.IsPlain(addressText, address))
        {
            error = "is not an IP address or CIDR range (e.g. 203.0.113.7, 10.0.0.0/8, 2001:db8::/32).";
            return false;
        }

        var maxPrefix = address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
        if (slash >= 0)
        {
            var prefixText = entry[(slash + 1)..];
            if (!int.TryParse(prefixText, NumberStyles.None, CultureInfo.InvariantCulture, out var prefix) || prefix > maxPrefix)
            {
                error = $"has a prefix length outside 0–{maxPrefix}.";
                return false;
            }

            // IPNetwork.TryParse clears the bits after the prefix silently; an entry that has them set is a typo.
            if (IPNetwork.TryParse(entry, out var range) && !range.BaseAddress.Equals(address))
            {
                error = $"has bits set after the first {prefix}; write the range's first address: {range}.";
                return false;
            }
        }

        if (!IpRanges.TryParse(entry, out network))
        {
            error = "is not an IP address or CIDR range (e.g. 203.0.113.7, 10.0.0.0/8, 2001:db8::/32).";
            return false;
        }

        error = "";
        return true;
    }
}
