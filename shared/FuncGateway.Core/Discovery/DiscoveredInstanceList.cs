using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace FuncGateway.Discovery;

/// <summary>Builds the instance lists sources publish: URLs from host and port, one entry per URL, in a stable order.</summary>
internal static class DiscoveredInstanceList
{
    /// <summary><c>scheme://host:port</c>, with an IPv6 address in brackets (<c>http://[fd00::1]:8080</c>).</summary>
    public static string Url(string scheme, string host, int port)
    {
        var bracketed = IPAddress.TryParse(host, out var address) && address.AddressFamily == AddressFamily.InterNetworkV6 && !host.StartsWith('[')
            ? "[" + address + "]"
            : host;
        return string.Create(CultureInfo.InvariantCulture, $"{scheme}://{bracketed}:{port}");
    }

    /// <summary>
    /// The list to publish: the first entry of each URL (compared ignoring case), ordered by URL, so two answers that
    /// list the same instances in another order compare equal.
    /// </summary>
    public static IReadOnlyList<DiscoveredInstance> Normalize(IEnumerable<DiscoveredInstance> instances)
    {
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var list = new List<DiscoveredInstance>();
        foreach (var instance in instances)
        {
            if (seen.Add(instance.Url))
            {
                list.Add(instance);
            }
        }

        list.Sort(static (a, b) => StringComparer.OrdinalIgnoreCase.Compare(a.Url, b.Url));
        return list;
    }

    /// <summary>True when both lists hold the same instances with the same weights, in the same order.</summary>
    public static bool Same(IReadOnlyList<DiscoveredInstance>? a, IReadOnlyList<DiscoveredInstance> b) =>
        a is not null && a.SequenceEqual(b);
}
