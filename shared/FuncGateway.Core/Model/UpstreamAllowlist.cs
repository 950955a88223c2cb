using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace FuncGateway.Model;

/// <summary>
/// Where routes and pools may send requests (<c>FuncGateway:Forwarding:AllowedUpstreams</c>), the gateway's guard
/// against server-side request forgery through the registry. Checked when a snapshot is built: an upstream URL
/// outside the list rejects its row like any other error. Unspecified, link-local and cloud metadata addresses are refused
/// whatever the list says, by name and address when the row is read and again, after DNS, when a connection is made
/// (<see cref="ConnectAsync"/>), so a name that resolves to one of them never reaches it either.
/// </summary>
internal sealed class UpstreamAllowlist
{
    public const string SettingKey = "FuncGateway:Forwarding:AllowedUpstreams";

    private static readonly IPNetwork[] RefusedNetworks =
    [
        IPNetwork.Parse("0.0.0.0/8"), // "this network" (RFC 1122): no host has it; a connection to 0.0.0.0 reaches the gateway's own machine
        IPNetwork.Parse("::/128"), // the IPv6 unspecified address: the same
        IPNetwork.Parse("169.254.0.0/16"), // IPv4 link-local: the metadata services of Azure, AWS, GCP, OCI (169.254.169.254), ECS (169.254.170.2)
        IPNetwork.Parse("fe80::/10"), // IPv6 link-local
        IPNetwork.Parse("168.63.129.16/32"), // Azure WireServer
        IPNetwork.Parse("100.100.100.200/32"), // Alibaba Cloud metadata
        IPNetwork.Parse("fd00:ec2::254/128"), // AWS metadata over IPv6
    ];

    private static readonly IPNetwork Nat64 = IPNetwork.Parse("64:ff9b::/96");

    private static readonly string[] RefusedNames = ["metadata.google.internal", "metadata.goog", "instance-data", "instance-data.ec2.internal"];

    private readonly IPNetwork[] _networks;
    private readonly HostPattern[] _hosts;

    private UpstreamAllowlist(IPNetwork[] networks, HostPattern[] hosts, string text)
    {
        _networks = networks;
        _hosts = hosts;
        Text = text;
    }

    /// <summary>No list: any upstream but the always-refused ones.</summary>
    public static UpstreamAllowlist Any { get; } = new([], [], "");

    /// <summary>The setting as configured, for messages.</summary>
    public string Text { get; }

    /// <summary>The networks refused whatever the list says, as documented.</summary>
    public static IReadOnlyList<IPNetwork> AlwaysRefusedNetworks => RefusedNetworks;

    /// <summary>The host names refused whatever the list says.</summary>
    public static IReadOnlyList<string> AlwaysRefusedNames => RefusedNames;

    /// <summary>Parses the setting; every bad entry is added to <paramref name="errors"/> under the setting's full key.</summary>
    public static UpstreamAllowlist Parse(string? text, List<string> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        var networks = new List<IPNetwork>();
        var hosts = new List<HostPattern>();
        foreach (var item in HostPattern.SplitList(text))
        {
            if (IpRanges.TryParse(item, out var network) || (!item.Contains('/', StringComparison.Ordinal) && IpRanges.TryParse(item.TrimStart('[').TrimEnd(']'), out network)))
            {
                networks.Add(network);
            }
            else if (item.Contains("://", StringComparison.Ordinal))
            {
                errors.Add($"{SettingKey}: '{item}' is a URL; list a host name (with an optional :port), an IP address or a CIDR range.");
            }
            else if (item.Contains('/', StringComparison.Ordinal))
            {
                errors.Add($"{SettingKey}: '{item}' is not a CIDR range (write the network address, e.g. 10.0.0.0/8).");
            }
            else if (HostPattern.TryParse(item, out var pattern, out var error))
            {
                hosts.Add(pattern);
            }
            else
            {
                errors.Add($"{SettingKey}: {error}");
            }
        }

        return networks.Count == 0 && hosts.Count == 0 ? Any : new UpstreamAllowlist([.. networks], [.. hosts], string.Join(",", HostPattern.SplitList(text)));
    }

    /// <summary>Null when requests may go to <paramref name="url"/> (an absolute http(s) URL); otherwise why not.</summary>
    public string? Check(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri))
        {
            return null;
        }

        var name = uri.IdnHost.TrimStart('[').TrimEnd(']').TrimEnd('.').ToLowerInvariant();
        if (uri.HostNameType == UriHostNameType.IPv6 && name.IndexOf('%', StringComparison.Ordinal) is var zone and >= 0)
        {
            // A zone ("fe80::1%25eth0") says which interface, not which address.
            name = name[..zone];
        }

        var isAddress = IPAddress.TryParse(name, out var address);
        if (isAddress && IsUnspecified(address!))
        {
            return $"'{uri.Host}' is an unspecified address (0.0.0.0/8, ::), which no upstream has (a connection to it reaches the gateway's own machine); the gateway never forwards there, whatever {SettingKey} says.";
        }

        if ((isAddress && IsAlwaysRefused(address!)) || (!isAddress && RefusedNames.Contains(name, StringComparer.Ordinal)))
        {
            return $"'{uri.Host}' is a link-local or cloud metadata address; the gateway never forwards there, whatever {SettingKey} says.";
        }

        if (ReferenceEquals(this, Any))
        {
            return null;
        }

        if (isAddress)
        {
            address = IpRanges.Normalize(address!);
            if (IpRanges.AnyContains(_networks, address))
            {
                return null;
            }
        }

        var host = isAddress && address!.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{name}]" : name;
        var authority = uri.IsDefaultPort ? host : host + ":" + uri.Port.ToString(CultureInfo.InvariantCulture);
        foreach (var pattern in _hosts)
        {
            if (pattern.Matches(authority, uri.Scheme))
            {
                return null;
            }
        }

        return $"'{uri.Authority}' is not in {SettingKey} ({Text}).";
    }

    /// <summary>True for an unspecified (0.0.0.0/8, ::), link-local or cloud metadata address (IPv4-mapped and NAT64 forms included).</summary>
    public static bool IsAlwaysRefused(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        address = IpRanges.Normalize(address);
        if (address.AddressFamily == AddressFamily.InterNetworkV6 && Nat64.Contains(address))
        {
            address = new IPAddress(address.GetAddressBytes().AsSpan(12));
        }

        return IpRanges.AnyContains(RefusedNetworks, address);
    }

    private static bool IsUnspecified(IPAddress address)
    {
        address = IpRanges.Normalize(address);
        return RefusedNetworks[0].Contains(address) || RefusedNetworks[1].Contains(address);
    }

    /// <summary>
    /// The upstream clients' connect step: resolves the host as <see cref="SocketsHttpHandler"/> would and connects
    /// only to addresses that are not always refused, so DNS cannot lead a request to a metadata service.
    /// </summary>
    public static async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var endpoint = context.DnsEndPoint;
        var host = endpoint.Host.TrimStart('[').TrimEnd(']');
        var addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, cancellationToken);
        var allowed = Array.FindAll(addresses, static a => !IsAlwaysRefused(a));
        if (allowed.Length == 0)
        {
            throw new HttpRequestException(HttpRequestError.ConnectionError,
                $"'{host}' resolves only to unspecified, link-local or cloud metadata addresses; the gateway never connects to them.");
        }

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(allowed, endpoint.Port, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
