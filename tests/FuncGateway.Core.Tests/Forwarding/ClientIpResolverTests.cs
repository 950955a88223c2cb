using FuncGateway.Model;
using System.Net;
using FuncGateway.Forwarding;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace FuncGateway.Core.Tests.Forwarding;

public class ClientIpResolverTests
{
    private static (IPAddress? Address, string Scheme) Resolve(string? trusted, string peer, params string[] forwardedFor)
    {
        var resolver = new ClientIpResolver(Options.Create(new GatewayOptions { ForwardedHeaders = new ForwardedHeadersOptions { TrustedProxies = trusted } }));
        var context = new DefaultHttpContext();
        context.Connection.RemoteIpAddress = IPAddress.Parse(peer);
        context.Request.Scheme = "http";
        if (forwardedFor.Length > 0)
        {
            context.Request.Headers["X-Forwarded-For"] = forwardedFor;
        }

        context.Request.Headers["X-Forwarded-Proto"] = "https";
        return resolver.Resolve(context);
    }

    [Fact]
    public void Without_trusted_proxies_the_socket_peer_is_the_client_whatever_the_headers_say()
    {
        var (address, scheme) = Resolve(null, "203.0.113.7", "198.51.100.1");

        Assert.Equal(IPAddress.Parse("203.0.113.7"), address);
        Assert.Equal("http", scheme);
    }

    [Fact]
    public void Behind_a_trusted_proxy_the_rightmost_untrusted_entry_is_the_client_not_the_leftmost()
    {
        var (address, scheme) = Resolve("127.0.0.0/8,10.0.0.0/8", "127.0.0.1", "6.6.6.6, 203.0.113.7:5123", "10.1.2.3");

        Assert.Equal(IPAddress.Parse("203.0.113.7"), address);
        Assert.Equal("https", scheme);
    }

    [Fact]
    public void An_untrusted_peer_cannot_set_the_client_address_by_header()
    {
        var (address, _) = Resolve("10.0.0.0/8", "203.0.113.9", "10.0.0.1");

        Assert.Equal(IPAddress.Parse("203.0.113.9"), address);
    }

    [Fact]
    public void Garbage_in_the_chain_stops_the_walk_at_the_last_trusted_hop()
    {
        var (address, _) = Resolve("127.0.0.1", "127.0.0.1", "203.0.113.7, not-an-ip");

        Assert.Equal(IPAddress.Parse("127.0.0.1"), address);
    }

    [Theory]
    [InlineData("[2001:db8::1]:443", "2001:db8::1")]
    [InlineData("2001:db8::2", "2001:db8::2")]
    [InlineData("::ffff:203.0.113.5", "203.0.113.5")]
    [InlineData("203.0.113.7:5678", "203.0.113.7")]
    public void Forwarded_addresses_in_every_written_form_are_understood(string entry, string expected)
    {
        Assert.True(ClientIpResolver.TryParseForwardedAddress(entry, out var address));
        Assert.Equal(IPAddress.Parse(expected), address);
    }

    [Theory]
    [InlineData("127.1")]
    [InlineData("2130706433")]
    [InlineData("0x7f.0.0.1")]
    [InlineData("0177.0.0.1")]
    [InlineData("127.1:80")]
    [InlineData("fe80::1%2")]
    [InlineData("[fe80::1%eth0]:80")]
    public void Addresses_no_proxy_writes_are_not_read_as_addresses(string entry)
    {
        Assert.False(ClientIpResolver.TryParseForwardedAddress(entry, out _));
    }

    [Fact]
    public void A_shorthand_address_in_the_chain_ends_the_walk_like_garbage_instead_of_passing_for_a_trusted_hop()
    {
        // '127.1' is no address a proxy writes: were it read as the trusted 127.0.0.1, the walk would go on to an
        // entry the client wrote.
        var (address, _) = Resolve("127.0.0.1", "127.0.0.1", "203.0.113.9, 127.1");

        Assert.Equal(IPAddress.Parse("127.0.0.1"), address);
    }

    [Theory]
    [InlineData("10.0.0.0/8, nonsense")]
    [InlineData("127.1")]
    [InlineData("10.1/8")]
    [InlineData("fe80::1%2")]
    public void A_malformed_trusted_proxy_setting_is_refused(string setting)
    {
        Assert.Throws<OptionsValidationException>(() => ClientIpResolver.ParseNetworks(setting));
    }
}
