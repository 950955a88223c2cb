using FuncGateway.Model;
using FuncGateway.Transforms;

namespace FuncGateway.Cli.Tests;

/// <summary>A route's transforms in a registry file: a native JSON array, written back unchanged, validated like the table.</summary>
public sealed class TransformsRegistryFileTests
{
    private const string File = """
        {
          "routes": [
            {
              "id": "legacy-orders",
              "path": "/api/orders/{id}",
              "upstream": "http://10.0.0.4:8080",
              "auth": "anonymous",
              "transforms": [
                { "RequestHeader": "X-Order", "Set": "{Route:id}" },
                { "QueryParameter": "api-version", "Set": "2024-01-01" },
                { "ResponseStatus": "404", "Set": "410" }
              ]
            }
          ]
        }
        """;

    [Fact]
    public void Transforms_read_and_write_back_as_a_native_array_and_the_table_entity_holds_the_same_json()
    {
        var file = RegistryFile.Parse(File, "f.json");
        var route = Assert.Single(file.Routes!);
        var transforms = route.Get(TransformsProperties.Transforms)!;
        Assert.Equal(["RequestHeader", "QueryParameter", "ResponseStatus"], transforms.Select(t => t.Members[0].Key));

        var written = RegistryFile.Serialize(file.Upstreams, file.Routes);
        Assert.Contains("\"transforms\": [", written, StringComparison.Ordinal);
        var again = RegistryFile.Parse(written, "written.json");
        Assert.Equal(written, RegistryFile.Serialize(again.Upstreams, again.Routes));

        var row = RegistryFormat.ToRow(route);
        Assert.Equal("""[{"RequestHeader":"X-Order","Set":"{Route:id}"},{"QueryParameter":"api-version","Set":"2024-01-01"},{"ResponseStatus":"404","Set":"410"}]""", row.Properties["Transforms"]);
        Assert.Empty(RegistryValidation.Validate(new RegistryContent([], [row]), UpstreamAllowlist.Any).Rejected);
    }

    [Fact]
    public void Validation_rejects_a_bad_list_with_the_gateways_reasons()
    {
        var json = File.Replace("{Route:id}", "{Route:order}", StringComparison.Ordinal).Replace("\"410\"", "\"101\"", StringComparison.Ordinal);
        var route = Assert.Single(RegistryFile.Parse(json, "f.json").Routes!);

        var rejected = Assert.Single(RegistryValidation.Validate(new RegistryContent([], [RegistryFormat.ToRow(route)]), UpstreamAllowlist.Any).Rejected);
        Assert.Contains(rejected.Errors, e => e.Contains("no parameter 'order'", StringComparison.Ordinal));
        Assert.Contains(rejected.Errors, e => e.Contains("1xx cannot be mapped", StringComparison.Ordinal));
    }

    [Fact]
    public void A_transform_value_that_is_not_a_string_is_refused_with_its_position()
    {
        var json = File.Replace("\"404\"", "404", StringComparison.Ordinal);
        var error = Assert.Throws<CliException>(() => RegistryFile.Parse(json, "f.json"));
        Assert.Contains("must be a JSON string", error.Message, StringComparison.Ordinal);
    }
}
