using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using FuncGateway.Model;

namespace FuncGateway.RateLimiting;

/// <summary>One part of a partition key.</summary>
internal enum PartitionPartKind
{
    ClientIp,
    User,
    Consumer,
    Tier,
    Route,
    Global,
    Header,
    Claim,
}

/// <summary>A partition key part; <see cref="Name"/> is the header or claim name.</summary>
internal readonly record struct PartitionPart(PartitionPartKind Kind, string? Name);

/// <summary>
/// What a policy counts per, compiled from <c>PartitionBy</c> (<c>ClientIp</c>, <c>User</c>, <c>Consumer</c>,
/// <c>Tier</c>, <c>Route</c>, <c>Global</c>, <c>Header:Name</c>, <c>Claim:type</c>, comma-separated to combine).
/// Resolves a request to a key string that is unambiguous (values are escaped) and bounded in length (long values
/// are hashed), so a client can neither collide with another partition nor grow memory with huge header values.
/// </summary>
internal sealed class PartitionKeySpec
{
    /// <summary>Values longer than this are replaced by their SHA-256, marked so no short value can look the same.</summary>
    public const int MaxValueLength = 128;

    private PartitionKeySpec(PartitionPart[] parts)
    {
        Parts = parts;
        Description = string.Join(',', parts.Select(static p => p.Name is null ? p.Kind.ToString() : p.Kind + ":" + p.Name));
        UsesIdentity = parts.Any(static p => p.Kind is PartitionPartKind.User or PartitionPartKind.Consumer or PartitionPartKind.Tier or PartitionPartKind.Claim);
    }

    public PartitionPart[] Parts { get; }

    /// <summary>What a key is made of, without any value: <c>ClientIp</c>, <c>Consumer,Route</c>, <c>Header:X-Tenant</c>.</summary>
    public string Description { get; }

    /// <summary>Whether the key needs the authenticated caller.</summary>
    public bool UsesIdentity { get; }

    /// <summary>Partition by client IP only.</summary>
    public static PartitionKeySpec ClientIp { get; } = new([new PartitionPart(PartitionPartKind.ClientIp, null)]);

    public static bool TryParse(string? text, out PartitionKeySpec spec, out string error)
    {
        spec = ClientIp;
        error = "";
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "is empty; use e.g. ClientIp, User, Consumer, Tier, Route, Global, Header:X-Tenant, Claim:tid or a comma-separated combination.";
            return false;
        }

        var parts = new List<PartitionPart>();
        foreach (var item in text.Split(',', StringSplitOptions.TrimEntries))
        {
            var colon = item.IndexOf(':', StringComparison.Ordinal);
            var kindText = colon < 0 ? item : item[..colon].Trim();
            var name = colon < 0 ? null : item[(colon + 1)..].Trim();
            if (!Enum.TryParse<PartitionPartKind>(kindText, ignoreCase: true, out var kind) || !Enum.IsDefined(kind) || kindText.Length == 0 || char.IsAsciiDigit(kindText[0]))
            {
                error = $"'{Model.PrintableText.Of(item)}' is not a partition key; use ClientIp, User, Consumer, Tier, Route, Global, Header:<name> or Claim:<type>.";
                return false;
            }

            var needsName = kind is PartitionPartKind.Header or PartitionPartKind.Claim;
            if (needsName && string.IsNullOrEmpty(name))
            {
                error = $"'{kind}' needs a name: {kind}:<{(kind == PartitionPartKind.Header ? "header name" : "claim type")}>.";
                return false;
            }

            if (!needsName && name is not null)
            {
                error = $"'{kind}' takes no name ('{Model.PrintableText.Of(item)}').";
                return false;
            }

            if (kind == PartitionPartKind.Header && !HttpSyntax.IsToken(name!))
            {
                error = $"'{Model.PrintableText.Of(name!)}' is not a valid header name.";
                return false;
            }

            var part = new PartitionPart(kind, name);
            if (parts.Any(p => p.Kind == part.Kind && string.Equals(p.Name, part.Name, StringComparison.OrdinalIgnoreCase)))
            {
                error = $"'{Model.PrintableText.Of(item)}' is listed twice.";
                return false;
            }

            parts.Add(part);
        }

        if (parts.Count > 1 && parts.Any(static p => p.Kind == PartitionPartKind.Global))
        {
            error = "Global cannot be combined with other parts (it means one counter for everyone).";
            return false;
        }

        spec = parts is [{ Kind: PartitionPartKind.ClientIp }] ? ClientIp : new PartitionKeySpec([.. parts]);
        return true;
    }

    /// <summary>The request's partition key under this spec.</summary>
    public string Resolve(HttpContext context, GatewayRequestFeature? feature, MissingKeyBehavior missing, int ipv6PrefixLength)
    {
        if (Parts.Length == 1)
        {
            return ResolvePart(Parts[0], context, feature, missing, ipv6PrefixLength);
        }

        var builder = new StringBuilder();
        foreach (var part in Parts)
        {
            if (builder.Length > 0)
            {
                builder.Append('&');
            }

            builder.Append(ResolvePart(part, context, feature, missing, ipv6PrefixLength));
        }

        return builder.ToString();
    }

    private static string ResolvePart(PartitionPart part, HttpContext context, GatewayRequestFeature? feature, MissingKeyBehavior missing, int ipv6PrefixLength)
    {
        // Outside the gateway pipeline (no feature) the socket peer is the client and nobody is authenticated.
        var identity = feature?.Identity;
        var client = feature is null ? context.Connection.RemoteIpAddress : feature.ClientAddress;
        string? value;
        switch (part.Kind)
        {
            case PartitionPartKind.ClientIp:
                return ClientIpKey(client, ipv6PrefixLength);
            case PartitionPartKind.Global:
                return "global";
            case PartitionPartKind.Route:
                return "route=" + Escape(feature?.Route.Definition.Id ?? "-");
            case PartitionPartKind.User:
                value = identity?.UserId;
                break;
            case PartitionPartKind.Consumer:
                value = identity?.ConsumerId;
                break;
            case PartitionPartKind.Tier:
                value = identity?.Tier;
                break;
            case PartitionPartKind.Claim:
                value = identity?.Principal.FindFirst(part.Name!)?.Value;
                break;
            case PartitionPartKind.Header:
                var values = context.Request.Headers[part.Name!];
                value = values.Count == 0 ? null : values.Count == 1 ? values[0] : string.Join(',', values.ToArray());
                break;
            default:
                throw new InvalidOperationException($"Unknown partition part {part.Kind}.");
        }

        var tag = part.Name is null ? part.Kind.ToString().ToLowerInvariant() : part.Kind.ToString().ToLowerInvariant() + ":" + Escape(part.Name.ToLowerInvariant());
        if (string.IsNullOrEmpty(value))
        {
            // Said out loud in the key, so a missing value never collides with a present one.
            return missing == MissingKeyBehavior.Shared ? tag + "!" : tag + "!" + ClientIpKey(client, ipv6PrefixLength);
        }

        return tag + "=" + Escape(value);
    }

    /// <summary>"ip=203.0.113.7"; an IPv6 address is cut to its prefix ("ip=2001:db8:1:2::/64"), so one client cannot rotate addresses within it.</summary>
    public static string ClientIpKey(IPAddress? address, int ipv6PrefixLength)
    {
        if (address is null)
        {
            return "ip=unknown";
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (address.AddressFamily != AddressFamily.InterNetworkV6 || ipv6PrefixLength >= 128)
        {
            return "ip=" + address;
        }

        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        for (var bit = ipv6PrefixLength; bit < 128; bit++)
        {
            bytes[bit / 8] &= (byte)~(0x80 >> (bit % 8));
        }

        return "ip=" + new IPAddress(bytes) + "/" + ipv6PrefixLength.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    private static string Escape(string value)
    {
        if (value.Length > MaxValueLength)
        {
            // '#' never survives in a value kept as written (it is escaped to %23), so no short value can spell this.
            return "#sha256-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value)));
        }

        foreach (var c in value)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '~' or '@' or ':'))
            {
                return Uri.EscapeDataString(value);
            }
        }

        return value;
    }
}
