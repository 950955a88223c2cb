using FuncGateway.Model;
using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace FuncGateway.Forwarding;

/// <summary>
/// Decides who the client is. The socket peer is the client unless it is a configured trusted proxy; then the
/// right-most <c>X-Forwarded-For</c> entry that is not itself a trusted proxy is. Never the left-most entry, which
/// the client wrote.
/// </summary>
internal sealed class ClientIpResolver
{
    private readonly IPNetwork[] _trusted;

    public ClientIpResolver(IOptions<GatewayOptions> options)
    {
        _trusted = ParseNetworks(options.Value.ForwardedHeaders.TrustedProxies);
    }

    public static IPNetwork[] ParseNetworks(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return [];
        }

        var result = new List<IPNetwork>();
        foreach (var item in text.Split([',', ';', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var slash = item.IndexOf('/', StringComparison.Ordinal);
            var addressText = slash < 0 ? item : item[..slash];
            if (IpRanges.TryParse(item, out var network) && IPAddress.TryParse(addressText, out var written) && IpRanges.IsPlain(addressText, written))
            {
                result.Add(network);
            }
            else
            {
                throw new OptionsValidationException("FuncGateway:ForwardedHeaders:TrustedProxies", typeof(ForwardedHeadersOptions),
                    [$"'{item}' in FuncGateway:ForwardedHeaders:TrustedProxies is neither an IP address nor a CIDR range (IPv4 as four decimal numbers, no zone index)."]);
            }
        }

        return [.. result];
    }

    public bool HasTrustedProxies => _trusted.Length > 0;

    /// <summary>True when the socket peer is one of the trusted proxies.</summary>
    public bool IsTrustedPeer(HttpContext context) =>
        _trusted.Length > 0 && context.Connection.RemoteIpAddress is { } remote && IsTrusted(IpRanges.Normalize(remote));

    /// <summary>The client's address, and the scheme the client used (from a trusted proxy's X-Forwarded-Proto).</summary>
    public (IPAddress? Address, string Scheme) Resolve(HttpContext context)
    {
        var client = ResolveClient(context);
        return (client.Address, client.Scheme);
    }

    /// <summary>
    /// What the client asked for as far as the gateway can believe it: its address, its scheme and the host it named.
    /// From a trusted proxy, the right-most <c>X-Forwarded-For</c> entry that is not itself trusted, the last
    /// <c>X-Forwarded-Proto</c> and the last <c>X-Forwarded-Host</c>; otherwise the socket peer, the request's scheme
    /// and its <c>Host</c>.
    /// </summary>
    public ClientView ResolveClient(HttpContext context)
    {
        var request = context.Request;
        var host = request.Host.HasValue ? request.Host.Value : null;
        var peer = context.Connection.RemoteIpAddress is { } remote ? IpRanges.Normalize(remote) : null;
        if (peer is null || !IsTrusted(peer))
        {
            return new ClientView(peer, request.Scheme, host);
        }

        // The peer is a proxy we trust: walk the chain from the right, past every trusted hop.
        var client = peer;
        var forwarded = request.Headers["X-Forwarded-For"];
        var done = false;
        for (var h = forwarded.Count - 1; h >= 0 && !done; h--)
        {
            var entries = (forwarded[h] ?? "").Split(',', StringSplitOptions.TrimEntries);
            for (var i = entries.Length - 1; i >= 0; i--)
            {
                if (!TryParseForwardedAddress(entries[i], out var hop))
                {
                    // An unparseable entry ends what can be believed: the last good hop is the client.
                    done = true;
                    break;
                }

                client = hop;
                if (!IsTrusted(hop))
                {
                    done = true;
                    break;
                }
            }
        }

        var scheme = request.Scheme;
        if (LastForwardedValue(request, "X-Forwarded-Proto") is { } last
            && (last.Equals("https", StringComparison.OrdinalIgnoreCase) || last.Equals("http", StringComparison.OrdinalIgnoreCase)))
        {
            scheme = last.ToLowerInvariant();
        }

        if (LastForwardedValue(request, "X-Forwarded-Host") is { Length: > 0 } forwardedHost)
        {
            host = forwardedHost;
        }

        return new ClientView(client, scheme, host);
    }

    private static string? LastForwardedValue(HttpRequest request, string header)
    {
        var values = request.Headers[header];
        return values.Count > 0 ? (values[^1] ?? "").Split(',', StringSplitOptions.TrimEntries)[^1] : null;
    }

    private bool IsTrusted(IPAddress address) => IpRanges.AnyContains(_trusted, address);

    /// <summary>Parses "1.2.3.4", "1.2.3.4:5678", "::1", "[::1]:80" (the forms proxies write, the Azure front end adds the port).</summary>
    internal static bool TryParseForwardedAddress(string entry, out IPAddress address)
    {
        address = IPAddress.None;
        if (entry.Length == 0)
        {
            return false;
        }

        // Plain addresses only: '127.1' or 'fe80::1%2' is no address a proxy writes, and reading it as one would let a
        // client's own entry pass for another address.
        if (IPAddress.TryParse(entry, out var parsed) ? IpRanges.IsPlain(entry, parsed)
            : IPEndPoint.TryParse(entry, out var endpoint) && (parsed = endpoint.Address) is not null && IpRanges.IsPlain(HostPart(entry), parsed))
        {
            address = IpRanges.Normalize(parsed!);
            return true;
        }

        return false;
    }

    /// <summary>The address part of "1.2.3.4:80" or "[::1]:80".</summary>
    private static ReadOnlySpan<char> HostPart(string entry)
    {
        var span = entry.AsSpan();
        if (span.StartsWith('['))
        {
            var close = span.IndexOf(']');
            return close > 0 ? span[1..close] : span;
        }

        var colon = span.LastIndexOf(':');
        return colon > 0 ? span[..colon] : span;
    }
}

/// <summary>The client as the gateway determined it.</summary>
/// <param name="Address">The client's address; null when the connection has none (in-process tests).</param>
/// <param name="Scheme">The scheme the client used.</param>
/// <param name="Host">The host (and port) the client named; null when it named none.</param>
internal readonly record struct ClientView(IPAddress? Address, string Scheme, string? Host);
