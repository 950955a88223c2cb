using System.Net;
using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Http;
using FuncGateway.Model;

namespace FuncGateway.LoadBalancing;

/// <summary>Where <c>ConsistentHash</c> takes a request's key from (the pool's <c>HashKey</c>).</summary>
internal enum HashKeySource
{
    /// <summary>The client's address as the gateway determined it.</summary>
    ClientIp,

    /// <summary>The first value of a request header.</summary>
    Header,

    /// <summary>A claim of the authenticated caller.</summary>
    Claim,
}

/// <summary>
/// Reads and hashes a request's key: <c>ClientIp</c> (default), <c>Header:Name</c> or <c>Claim:type</c>. A request
/// without the header or claim falls back to its client address. The hash is stable across processes and machines,
/// so every gateway instance sends the same key to the same upstream instance.
/// </summary>
internal sealed class HashKeySelector
{
    private HashKeySelector(HashKeySource source, string? name)
    {
        Source = source;
        Name = name;
    }

    public static HashKeySelector ClientIp { get; } = new(HashKeySource.ClientIp, null);

    public HashKeySource Source { get; }

    public string? Name { get; }

    public static bool TryParse(string text, out HashKeySelector selector, out string error)
    {
        selector = ClientIp;
        error = "";
        var trimmed = text.Trim();
        if (trimmed.Equals("ClientIp", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        var colon = trimmed.IndexOf(':', StringComparison.Ordinal);
        var kind = colon < 0 ? trimmed : trimmed[..colon];
        var name = colon < 0 ? "" : trimmed[(colon + 1)..].Trim();
        if (kind.Equals("Header", StringComparison.OrdinalIgnoreCase) && HttpSyntax.IsToken(name))
        {
            selector = new HashKeySelector(HashKeySource.Header, name);
            return true;
        }

        if (kind.Equals("Claim", StringComparison.OrdinalIgnoreCase) && name.Length > 0)
        {
            selector = new HashKeySelector(HashKeySource.Claim, name);
            return true;
        }

        error = $"HashKey '{Model.PrintableText.Of(text)}' is not one of ClientIp, Header:<header name>, Claim:<claim type>.";
        return false;
    }

    /// <summary>The request's key hash, or null when the request has no key at all (no header, claim or client address).</summary>
    public ulong? Hash(HttpContext context)
    {
        var feature = context.Features.Get<GatewayRequestFeature>();
        switch (Source)
        {
            case HashKeySource.Header when context.Request.Headers.TryGetValue(Name!, out var values) && values.Count > 0 && !string.IsNullOrEmpty(values[0]):
                return StableHash.Of(values[0]!);
            case HashKeySource.Claim when feature?.Identity?.Principal.FindFirst(Name!)?.Value is { Length: > 0 } claim:
                return StableHash.Of(claim);
        }

        return feature?.ClientAddress is { } address ? StableHash.Of(address) : null;
    }

    public override string ToString() => Source == HashKeySource.ClientIp ? "ClientIp" : $"{Source}:{Name}";
}

/// <summary>A 64-bit hash that is the same in every process (unlike <see cref="HashCode"/>): FNV-1a with a final avalanche.</summary>
internal static class StableHash
{
    private const ulong OffsetBasis = 14695981039346656037;
    private const ulong Prime = 1099511628211;

    public static ulong Of(string text) => Of(MemoryMarshal.AsBytes(text.AsSpan()));

    public static ulong Of(IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[16];
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        return address.TryWriteBytes(bytes, out var written) ? Of(bytes[..written]) : Of(address.ToString());
    }

    public static ulong Of(ReadOnlySpan<byte> bytes)
    {
        var hash = OffsetBasis;
        foreach (var b in bytes)
        {
            hash = (hash ^ b) * Prime;
        }

        // MurmurHash3's finalizer spreads FNV's weak low bits over the whole word.
        hash ^= hash >> 33;
        hash *= 0xff51afd7ed558ccd;
        hash ^= hash >> 33;
        hash *= 0xc4ceb9fe1a85ec53;
        hash ^= hash >> 33;
        return hash;
    }
}
