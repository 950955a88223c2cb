using FuncGateway.Discovery;
using FuncGateway.Model;
using static FuncGateway.Core.Tests.Configuration.RegistryRows;

namespace FuncGateway.Core.Tests.Discovery;

/// <summary>The <c>Discovery</c> pool property: its table format, and the DNS server setting.</summary>
public sealed class DiscoverySpecificationTests
{
    [Fact]
    public void A_pool_row_with_discovery_needs_no_instances_and_keeps_the_object_as_written()
    {
        var errors = new List<string>();
        var pool = RegistryFormat.Serializer.ParseUpstream(
            Row(RegistryTable.Upstreams, "default", "orders", ("Discovery", """{ "source": "DNS", "Name": "orders.internal", "Port": 8080 }""")), errors);

        Assert.Empty(errors);
        Assert.Empty(pool!.Instances);
        var discovery = pool.Get(DiscoveryProperties.Discovery)!;
        Assert.Equal("DNS", discovery.Kind);
        Assert.Equal("""{"source":"DNS","Name":"orders.internal","Port":8080}""", discovery.Text);
        Assert.Equal(discovery.Text, RegistryFormat.Serializer.ToRow(pool).Properties["Discovery"]);
    }

    [Theory]
    [InlineData("[1]", "Discovery must be a JSON object")]
    [InlineData("{\"Source\":7}", "Discovery needs a \"Source\" string")]
    [InlineData("{\"Source\":", "Discovery is not valid JSON")]
    public void A_discovery_value_that_is_not_an_object_with_a_source_rejects_the_row(string json, string reason)
    {
        var errors = new List<string>();
        Assert.Null(RegistryFormat.Serializer.ParseUpstream(Row(RegistryTable.Upstreams, "default", "orders", ("Discovery", json)), errors));
        Assert.Contains(errors, e => e.StartsWith(reason, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("", 0)]
    [InlineData("10.0.0.10", 1)]
    [InlineData("127.0.0.1:5353, [fd00::10]:53, fd00::11", 3)]
    public void Dns_servers_are_addresses_with_optional_ports(string text, int count)
    {
        var servers = DnsLookup.ParseServers(text, out var error);
        Assert.Null(error);
        Assert.Equal(count, servers!.Count);
        Assert.All(servers, s => Assert.True(s.Port is 53 or 5353));
    }

    [Theory]
    [InlineData("dns.internal")]
    [InlineData("10.0.0.1:0")]
    [InlineData("10.0.0.1:99999")]
    public void A_dns_server_that_is_not_an_address_is_refused(string text)
    {
        Assert.Null(DnsLookup.ParseServers(text, out var error));
        Assert.Contains(text, error, StringComparison.Ordinal);
    }
}
