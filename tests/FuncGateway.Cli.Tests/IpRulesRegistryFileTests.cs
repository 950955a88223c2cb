using FuncGateway.Concurrency;
using FuncGateway.IpRules;
using FuncGateway.Model;

namespace FuncGateway.Cli.Tests;

/// <summary><c>allowIps</c>, <c>denyIps</c> and <c>maxConcurrency</c> in a registry file: native JSON, written back unchanged, validated like the tables.</summary>
public sealed class IpRulesRegistryFileTests
{
    // The README's registry-file example for these properties.
    private const string File = """
        {
          "routes": [
            {
              "id": "orders",
              "path": "/api/orders/{**rest}",
              "upstream": "orders",
              "auth": "anonymous",
              "allowIps": [ "10.0.0.0/8", "192.0.2.0/24", "2001:db8::/32" ],
              "denyIps": [ "10.66.0.0/16" ],
              "maxConcurrency": 50
            }
          ]
        }
        """;

    [Fact]
    public void The_properties_read_and_write_back_as_native_json_and_as_the_table_stores_them()
    {
        var file = RegistryFile.Parse(File, "f.json");

        var route = Assert.Single(file.Routes!);
        Assert.Equal(["10.0.0.0/8", "192.0.2.0/24", "2001:db8::/32"], route.Get(IpRulesProperties.AllowIps));
        Assert.Equal(["10.66.0.0/16"], route.Get(IpRulesProperties.DenyIps));
        Assert.Equal(50, route.Get(ConcurrencyProperties.MaxConcurrency));

        var row = RegistryFormat.ToRow(route);
        Assert.Equal("10.0.0.0/8,192.0.2.0/24,2001:db8::/32", row.Properties["AllowIps"]);
        Assert.Equal(50, row.Properties["MaxConcurrency"]);

        var written = RegistryFile.Serialize(file.Upstreams, file.Routes);
        Assert.Contains("\"maxConcurrency\": 50", written, StringComparison.Ordinal);
        Assert.Equal(written, RegistryFile.Serialize(RegistryFile.Parse(written, "w.json").Upstreams, RegistryFile.Parse(written, "w.json").Routes));
    }

    [Fact]
    public void Validation_rejects_a_bad_entry_or_limit_offline_with_its_reason()
    {
        var bad = File.Replace("\"10.66.0.0/16\"", "\"10.66.1.0/16\"", StringComparison.Ordinal).Replace("50", "0", StringComparison.Ordinal);
        var route = Assert.Single(RegistryFile.Parse(bad, "f.json").Routes!);

        var snapshot = RegistryValidation.Validate(new RegistryContent([], [RegistryFormat.ToRow(route)]), UpstreamAllowlist.Any);

        var errors = Assert.Single(snapshot.Rejected).Errors;
        Assert.Contains("DenyIps entry '10.66.1.0/16' has bits set after the first 16; write the range's first address: 10.66.0.0/16.", errors);
        Assert.Contains("MaxConcurrency 0 is outside 1–100000.", errors);
    }

    [Fact]
    public void A_comma_separated_string_is_read_too_as_the_docs_say()
    {
        var file = RegistryFile.Parse("""
            {"routes":[{"id":"g1","path":"/g1","upstream":"echo","auth":"anonymous","groups":"web, mobile",
              "allowIps":"10.0.0.0/8,192.0.2.0/24","denyIps":"10.66.0.0/16"}]}
            """, "f.json");

        var route = Assert.Single(file.Routes!);
        Assert.Equal(["10.0.0.0/8", "192.0.2.0/24"], route.Get(IpRulesProperties.AllowIps));
        Assert.Equal(["10.66.0.0/16"], route.Get(IpRulesProperties.DenyIps));
        Assert.Equal(["web", "mobile"], route.Get(FuncGateway.RouteGroups.RouteGroupsProperties.Groups));
        Assert.Contains("\"allowIps\": [", RegistryFile.Serialize(file.Upstreams, file.Routes), StringComparison.Ordinal);
    }
}
