using Azure.Data.Tables;
using FuncGateway.Testing;

namespace FuncGateway.Cli.Tests;

/// <summary>
/// The header-trust route properties (AllowOverrideHeader, ForwardAccessTokenQuery) through the CLI's file format and
/// the tables, and the gateway's upstream allowlist applied by fgw when FuncGateway__Forwarding__AllowedUpstreams is set.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class HeaderTrustRegistryFileTests(AzuriteFixture fixture) : IDisposable
{
    private const string File = """
        {
          "routes": [
            {
              "id": "legacy",
              "path": "/legacy/{**rest}",
              "upstream": "http://10.0.0.4:8080",
              "allowOverrideHeader": "X-HTTP-Method-Override",
              "auth": "partners",
              "forwardAccessTokenQuery": true
            }
          ]
        }

        """;

    private readonly CliHarness _cli = new(fixture);

    [Fact]
    public async Task The_properties_import_as_entity_properties_and_export_back_unchanged()
    {
        var import = await _cli.RunAsync("import", _cli.WriteFile(File));
        Assert.True(import.ExitCode == 0, import.ToString());

        TableEntity stored = await _cli.RoutesTable.GetEntityAsync<TableEntity>("default", "legacy");
        Assert.Equal("X-HTTP-Method-Override", stored["AllowOverrideHeader"]);
        Assert.Equal(true, stored["ForwardAccessTokenQuery"]);

        var export = await _cli.RunAsync("routes", "export");
        Assert.True(export.ExitCode == 0, export.ToString());
        Assert.Equal(File.ReplaceLineEndings("\n"), export.Stdout);
    }

    [Fact]
    public async Task A_bad_override_header_is_rejected_by_validate()
    {
        var result = await CliHarness.RunRawAsync(["validate", _cli.WriteFile(File.Replace("X-HTTP-Method-Override", "X-Forwarded-Host", StringComparison.Ordinal))]);

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("  - AllowOverrideHeader 'X-Forwarded-Host' is not one of X-HTTP-Method-Override, X-HTTP-Method, X-Method-Override, X-Original-URL, X-Rewrite-URL.", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_the_gateways_allowlist_in_the_environment_validate_rejects_what_the_gateway_would()
    {
        var file = _cli.WriteFile("""
            {
              "upstreams": [ { "name": "pool", "instances": [ "http://10.0.0.4:8080", "http://192.168.0.9:8080" ] } ],
              "routes": [
                { "id": "inside", "path": "/a", "upstream": "http://10.0.0.5", "auth": "anonymous" },
                { "id": "imds", "path": "/b", "upstream": "http://169.254.169.254", "auth": "anonymous" }
              ]
            }
            """);

        var unset = await CliHarness.RunRawAsync(["validate", file]);
        var set = await CliHarness.RunRawAsync(["validate", file], new Dictionary<string, string?> { ["FuncGateway__Forwarding__AllowedUpstreams"] = "10.0.0.0/8" });
        var malformed = await CliHarness.RunRawAsync(["validate", file], new Dictionary<string, string?> { ["FuncGateway__Forwarding__AllowedUpstreams"] = "10.0.0.0/33" });

        // Metadata addresses are refused with or without a list; the list adds the rest.
        Assert.True(unset.ExitCode == 1, unset.ToString());
        Assert.Contains("route 'imds'", unset.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("upstream 'pool'", unset.Stderr, StringComparison.Ordinal);
        Assert.True(set.ExitCode == 1, set.ToString());
        Assert.Contains("  - Instance '192.168.0.9:8080' is not in FuncGateway:Forwarding:AllowedUpstreams (10.0.0.0/8).", set.Stderr, StringComparison.Ordinal);
        Assert.Contains("  - Upstream '169.254.169.254' is a link-local or cloud metadata address", set.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("route 'inside'", set.Stderr, StringComparison.Ordinal);
        Assert.True(malformed.ExitCode == 2, malformed.ToString());
        Assert.Contains("error: FuncGateway:Forwarding:AllowedUpstreams: '10.0.0.0/33' is not a CIDR range", malformed.Stderr, StringComparison.Ordinal);
    }

    public void Dispose() => _cli.Dispose();
}
