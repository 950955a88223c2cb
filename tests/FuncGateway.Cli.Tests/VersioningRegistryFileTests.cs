using FuncGateway.Model;
using FuncGateway.Versioning;

namespace FuncGateway.Cli.Tests;

/// <summary><c>versionSet</c> and <c>apiVersion</c> in a registry file: read, written back unchanged, stored as the table does, checked offline.</summary>
public sealed class VersioningRegistryFileTests
{
    // docs/versioning.md's registry-file example.
    private const string File = """
        {
          "routes": [
            {
              "id": "orders-v1",
              "path": "/api/{version}/orders/{**rest}",
              "upstream": "orders-v2",
              "upstreamPath": "/orders/{**rest}",
              "auth": "anonymous",
              "transforms": [
                { "QueryParameterRename": "fields", "To": "select" },
                { "RequestHeaderRename": "X-Customer", "To": "X-Customer-Id" },
                { "RequestHeader": "Api-Version", "Set": "2" },
                { "ResponseStatus": "201", "Set": "200" }
              ],
              "versionSet": "orders",
              "apiVersion": "1"
            },
            {
              "id": "orders-v2",
              "path": "/api/{version}/orders/{**rest}",
              "upstream": "orders-v2",
              "upstreamPath": "/orders/{**rest}",
              "auth": "anonymous",
              "versionSet": "orders",
              "apiVersion": "2"
            }
          ]
        }
        """;

    [Fact]
    public void The_properties_read_and_write_back_as_the_table_stores_them()
    {
        var file = RegistryFile.Parse(File, "f.json");

        var v1 = file.Routes!.Single(r => r.Id == "orders-v1");
        Assert.Equal(("orders", "1"), (v1.Get(VersioningProperties.VersionSet), v1.Get(VersioningProperties.ApiVersion)));
        var row = RegistryFormat.ToRow(v1);
        Assert.Equal(("orders", "1"), (row.Properties["VersionSet"], row.Properties["ApiVersion"]));

        var written = RegistryFile.Serialize(file.Upstreams, file.Routes);
        Assert.Contains("\"versionSet\": \"orders\"", written, StringComparison.Ordinal);
        Assert.Contains("\"apiVersion\": \"2\"", written, StringComparison.Ordinal);
        var again = RegistryFile.Parse(written, "w.json");
        Assert.Equal(written, RegistryFile.Serialize(again.Upstreams, again.Routes));
    }

    [Fact]
    public void Two_versions_of_one_path_validate_offline_and_two_routes_of_one_version_conflict()
    {
        var rows = RegistryFile.Parse(File, "f.json").Routes!.Select(RegistryFormat.ToRow).ToList();
        var pool = RegistryFormat.ToRow(new UpstreamDefinition { Name = "orders-v2", Instances = [new("http://10.0.0.4:8080")] });

        Assert.Empty(RegistryValidation.Validate(new RegistryContent([pool], rows), UpstreamAllowlist.Any).Rejected);

        var same = RegistryFile.Parse(File.Replace("\"apiVersion\": \"2\"", "\"apiVersion\": \"1\"", StringComparison.Ordinal), "f.json").Routes!.Select(RegistryFormat.ToRow).ToList();
        var rejected = Assert.Single(RegistryValidation.Validate(new RegistryContent([pool], same), UpstreamAllowlist.Any).Rejected);
        Assert.Equal("orders-v2", rejected.RowKey);
        Assert.StartsWith("Conflicts with route 'orders-v1'", Assert.Single(rejected.Errors), StringComparison.Ordinal);

        var half = RegistryFile.Parse(File.Replace("\"apiVersion\": \"2\"", "\"priority\": 1", StringComparison.Ordinal), "f.json").Routes!.Select(RegistryFormat.ToRow).ToList();
        var lone = Assert.Single(RegistryValidation.Validate(new RegistryContent([pool], half), UpstreamAllowlist.Any).Rejected);
        Assert.Equal("VersionSet 'orders' needs ApiVersion: the version of the set the route serves.", Assert.Single(lone.Errors));
    }

    [Fact]
    public void Validation_rejects_a_malformed_version_or_set_name_offline()
    {
        var bad = File.Replace("\"apiVersion\": \"1\"", "\"apiVersion\": \"1 beta\"", StringComparison.Ordinal)
            .Replace("\"versionSet\": \"orders\",\n      \"apiVersion\": \"2\"", "\"versionSet\": \"my-orders\",\n      \"apiVersion\": \"2\"", StringComparison.Ordinal);
        var rows = RegistryFile.Parse(bad, "f.json").Routes!.Select(RegistryFormat.ToRow).ToList();

        var rejected = RegistryValidation.Validate(new RegistryContent([], rows), UpstreamAllowlist.Any).Rejected;

        Assert.StartsWith("ApiVersion '1 beta' is not a valid version", Assert.Single(Assert.Single(rejected, r => r.RowKey == "orders-v1").Errors), StringComparison.Ordinal);
        Assert.StartsWith("VersionSet 'my-orders' is not a valid set name", Assert.Single(Assert.Single(rejected, r => r.RowKey == "orders-v2").Errors), StringComparison.Ordinal);
    }
}
