using System.Net;
using System.Net.Sockets;

namespace FuncGateway.Model;

/// <summary>
/// IP addresses and CIDR ranges as operators write them (trusted proxies, allowed upstreams, a route's IP rules),
/// and the one normal form addresses are compared in: an IPv4-mapped IPv6 address (<c>::ffff:10.0.0.4</c>, what a
/// dual-stack socket reports for an IPv4 peer) is its IPv4 address.
/// </summary>
internal static class IpRanges
{
    /// <summary>
    /// Parses a CIDR range (<c>10.0.0.0/8</c>, <c>fd00::/8</c>) or a single address (<c>10.0.0.4</c>, <c>::1</c>: a /32
    /// or /128). An IPv4-mapped range or address (<c>::ffff:10.0.0.0/104</c>) is the IPv4 range it maps
    /// (<c>10.0.0.0/8</c>), so it matches the normalized addresses it is compared with.
    /// </summary>
    public static bool TryParse(string item, out IPNetwork network)
    {
        ArgumentNullException.ThrowIfNull(item);
        if (IPNetwork.TryParse(item, out network))
        {
            network = Normalize(network);
            return true;
        }

        if (IPAddress.TryParse(item, out var address))
        {
            address = Normalize(address);
            network = new IPNetwork(address, address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128);
            return true;
        }

        network = default;
        return false;
    }

    /// <summary>
    /// Whether <paramref name="text"/> is <paramref name="address"/> written plainly: IPv4 as four decimal numbers
    /// (<see cref="IPAddress.TryParse(string, out IPAddress)"/> also reads <c>127.1</c>, <c>2130706433</c> and octal
    /// or hex parts), and no zone index (<c>%eth0</c>) on IPv6. Addresses that proxies write are always plain.
    /// </summary>
    public static bool IsPlain(ReadOnlySpan<char> text, IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (text.Contains('%'))
        {
            return false;
        }

        if (address.AddressFamily != AddressFamily.InterNetwork)
        {
            return true;
        }

        Span<char> written = stackalloc char[15];
        return address.TryFormat(written, out var length) && text.SequenceEqual(written[..length]);
    }

    /// <summary>True when one of <paramref name="networks"/> holds <paramref name="address"/> (already normalized).</summary>
    public static bool AnyContains(IPNetwork[] networks, IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(networks);
        foreach (var network in networks)
        {
            if (network.Contains(address))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The address in the form the gateway compares addresses in (IPv4-mapped IPv6 becomes IPv4).</summary>
    public static IPAddress Normalize(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        return address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
    }

    private static IPNetwork Normalize(IPNetwork network) =>
        network.PrefixLength >= 96 && network.BaseAddress.IsIPv4MappedToIPv6
            ? new IPNetwork(network.BaseAddress.MapToIPv4(), network.PrefixLength - 96)
            : network;
}
