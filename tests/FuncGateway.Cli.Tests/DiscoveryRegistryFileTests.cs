using FuncGateway.Discovery;
using FuncGateway.Model;

namespace FuncGateway.Cli.Tests;

/// <summary><c>discovery</c> in a registry file: a native JSON object, no <c>instances</c> needed, checked offline like the gateway does.</summary>
public sealed class DiscoveryRegistryFileTests
{
    // docs/discovery.md's registry-file example, plus a pool that also has static instances.
    private const string File = """
        {
          "upstreams": [
            { "name": "orders", "discovery": { "Source": "dns", "Name": "orders.internal", "Port": 8080 } },
            { "name": "billing", "instances": [ { "url": "http://10.0.0.9:8080", "weight": 1 } ], "discovery": { "Source": "registration" } }
          ],
          "routes": [
            { "id": "orders", "path": "/api/orders/{**rest}", "upstream": "orders", "auth": "anonymous" }
          ]
        }
        """;

    [Fact]
    public void A_discovery_pool_reads_writes_back_and_validates_without_static_instances()
    {
        var file = RegistryFile.Parse(File, "f.json");

        var orders = file.Upstreams!.Single(u => u.Name == "orders");
        Assert.Empty(orders.Instances);
        Assert.Equal("dns", orders.Get(DiscoveryProperties.Discovery)!.Kind);
        var row = RegistryFormat.ToRow(orders);
        Assert.Equal("""{"Source":"dns","Name":"orders.internal","Port":8080}""", row.Properties["Discovery"]);

        var written = RegistryFile.Serialize(file.Upstreams, file.Routes);
        Assert.Contains("\"discovery\": {", written, StringComparison.Ordinal);
        Assert.Equal(written, RegistryFile.Serialize(RegistryFile.Parse(written, "w.json").Upstreams, RegistryFile.Parse(written, "w.json").Routes));

        var verdict = RegistryValidation.Validate(new RegistryContent([.. file.Upstreams!.Select(RegistryFormat.ToRow)], [.. file.Routes!.Select(RegistryFormat.ToRow)]), UpstreamAllowlist.Any);
        Assert.Empty(verdict.Rejected);
    }

    [Fact]
    public void Offline_validation_rejects_bad_fields_of_the_built_in_kinds_with_the_gateways_reasons()
    {
        var bad = File.Replace("\"Port\": 8080", "\"Port\": 0, \"Colour\": \"red\"", StringComparison.Ordinal)
            .Replace("{ \"Source\": \"registration\" }", "{ \"Source\": \"registration\", \"Name\": \"x\" }", StringComparison.Ordinal);
        var file = RegistryFile.Parse(bad, "f.json");

        var verdict = RegistryValidation.Validate(new RegistryContent([.. file.Upstreams!.Select(RegistryFormat.ToRow)], []), UpstreamAllowlist.Any);

        var reasons = verdict.Rejected.ToDictionary(r => r.RowKey, r => r.Errors);
        Assert.Contains("Discovery (dns): unknown field \"Colour\". Known: Source, Name, Port, Scheme, BasePath.", reasons["orders"]);
        Assert.Contains("Discovery (dns): \"Port\" must be a whole number from 1 to 65535.", reasons["orders"]);
        Assert.Contains("Discovery (registration): unknown field \"Name\". Known: Source.", reasons["billing"]);
    }
}
