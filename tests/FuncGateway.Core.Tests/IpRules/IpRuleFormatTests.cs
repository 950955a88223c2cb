using System.Net;
using FuncGateway.IpRules;
using FuncGateway.Model;
using static FuncGateway.Core.Tests.Configuration.RegistryRows;

namespace FuncGateway.Core.Tests.IpRules;

/// <summary>The route properties <c>AllowIps</c> and <c>DenyIps</c>: what an entry may be, and the reason a bad one rejects its row with.</summary>
public sealed class IpRuleFormatTests
{
    [Theory]
    [InlineData("203.0.113.7", "203.0.113.7/32")]
    [InlineData("10.0.0.0/8", "10.0.0.0/8")]
    [InlineData("0.0.0.0/0", "0.0.0.0/0")]
    [InlineData("2001:db8::7", "2001:db8::7/128")]
    [InlineData("2001:DB8::/32", "2001:db8::/32")]
    [InlineData("::1", "::1/128")]
    [InlineData("::/0", "::/0")]
    [InlineData("::ffff:198.51.100.7", "198.51.100.7/32")]
    [InlineData("::ffff:10.0.0.0/104", "10.0.0.0/8")]
    [InlineData("::ffff:0:0/96", "0.0.0.0/0")]
    public void An_entry_is_an_address_or_a_cidr_range_of_either_family(string entry, string range)
    {
        Assert.True(IpRuleFormat.TryParse(entry, out var network, out var error), error);
        Assert.Equal(range, network.ToString());
    }

    [Theory]
    [InlineData("10", "is not an IP address or CIDR range (e.g. 203.0.113.7, 10.0.0.0/8, 2001:db8::/32).")]
    [InlineData("10.1", "is not an IP address or CIDR range (e.g. 203.0.113.7, 10.0.0.0/8, 2001:db8::/32).")]
    [InlineData("010.0.0.1", "is not an IP address or CIDR range (e.g. 203.0.113.7, 10.0.0.0/8, 2001:db8::/32).")]
    [InlineData("0x0a.0.0.1", "is not an IP address or CIDR range (e.g. 203.0.113.7, 10.0.0.0/8, 2001:db8::/32).")]
    [InlineData("api.example.com", "is not an IP address or CIDR range (e.g. 203.0.113.7, 10.0.0.0/8, 2001:db8::/32).")]
    [InlineData("[::1]:80", "is not an IP address or CIDR range (e.g. 203.0.113.7, 10.0.0.0/8, 2001:db8::/32).")]
    [InlineData("[::1]", "is not an IP address or CIDR range (e.g. 203.0.113.7, 10.0.0.0/8, 2001:db8::/32).")]
    [InlineData("10.0.0.0-10.0.0.9", "is not an IP address or CIDR range (e.g. 203.0.113.7, 10.0.0.0/8, 2001:db8::/32).")]
    [InlineData("10.0.0.0/33", "has a prefix length outside 0–32.")]
    [InlineData("10.0.0.0/", "has a prefix length outside 0–32.")]
    [InlineData("10.0.0.0/+8", "has a prefix length outside 0–32.")]
    [InlineData("2001:db8::/129", "has a prefix length outside 0–128.")]
    [InlineData("10.1.2.3/8", "has bits set after the first 8; write the range's first address: 10.0.0.0/8.")]
    [InlineData("192.168.1.77/26", "has bits set after the first 26; write the range's first address: 192.168.1.64/26.")]
    [InlineData("2001:db8::1/64", "has bits set after the first 64; write the range's first address: 2001:db8::/64.")]
    [InlineData("fe80::1%eth0", "has a zone index ('%…'); write the address without it.")]
    public void A_bad_entry_is_refused_with_the_reason(string entry, string reason)
    {
        Assert.False(IpRuleFormat.TryParse(entry, out _, out var error));
        Assert.Equal(reason, error);
    }

    [Fact]
    public void A_bad_entry_rejects_the_row_naming_the_property_and_the_entry()
    {
        var errors = new List<string>();

        var route = RegistryFormat.ParseRoute(Route("r", "/r", "http://10.0.0.4", ("AllowIps", "10.0.0.0/8, 10.1.2.3/16"), ("DenyIps", """["::1","bogus"]""")), errors);

        Assert.Null(route);
        Assert.Equal(
            [
                "AllowIps entry '10.1.2.3/16' has bits set after the first 16; write the range's first address: 10.1.0.0/16.",
                "DenyIps entry 'bogus' is not an IP address or CIDR range (e.g. 203.0.113.7, 10.0.0.0/8, 2001:db8::/32).",
            ],
            errors);
    }

    [Fact]
    public void The_lists_are_comma_separated_or_json_arrays_and_write_back_comma_separated_as_given()
    {
        var errors = new List<string>();
        var route = RegistryFormat.ParseRoute(Route("r", "/r", "http://10.0.0.4", ("AllowIps", " 10.0.0.0/8 ,2001:DB8::/32"), ("DenyIps", """["10.9.0.0/16"]""")), errors);

        Assert.Empty(errors);
        Assert.Equal(["10.0.0.0/8", "2001:DB8::/32"], route!.Get(IpRulesProperties.AllowIps));
        Assert.Equal(["10.9.0.0/16"], route.Get(IpRulesProperties.DenyIps));
        var row = RegistryFormat.ToRow(route);
        Assert.Equal("10.0.0.0/8,2001:DB8::/32", row.Properties["AllowIps"]);
        Assert.Equal("10.9.0.0/16", row.Properties["DenyIps"]);
        Assert.False(RegistryFormat.ToRow(route.With(IpRulesProperties.DenyIps, [])).Properties.ContainsKey("DenyIps"));
    }

    [Fact]
    public void Trailing_commas_are_ignored_and_a_wrong_type_is_a_row_error()
    {
        var errors = new List<string>();

        RegistryFormat.ParseRoute(Route("r", "/r", "http://10.0.0.4", ("AllowIps", "10.0.0.0/8,,"), ("DenyIps", 5)), errors);

        Assert.Equal(["DenyIps must be a string, not an Int32."], errors.Where(e => e.StartsWith("DenyIps", StringComparison.Ordinal)));
        Assert.DoesNotContain(errors, e => e.StartsWith("AllowIps", StringComparison.Ordinal));
    }

    [Fact]
    public void Trusted_proxies_and_ip_rules_parse_addresses_with_the_same_parser()
    {
        // One parser (Model/IpRanges) behind every address list: a mapped range means its IPv4 range everywhere.
        Assert.True(IpRanges.TryParse("::ffff:10.0.0.0/104", out var mapped));
        Assert.Equal(IPNetwork.Parse("10.0.0.0/8"), mapped);
        Assert.Equal([IPNetwork.Parse("10.0.0.0/8"), IPNetwork.Parse("127.0.0.1/32")], FuncGateway.Forwarding.ClientIpResolver.ParseNetworks("::ffff:10.0.0.0/104, ::ffff:127.0.0.1"));
    }
}
