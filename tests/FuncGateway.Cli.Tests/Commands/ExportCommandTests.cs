using Azure.Data.Tables;
using FuncGateway.Testing;

namespace FuncGateway.Cli.Tests.Commands;

[Collection(AzuriteCollection.Name)]
public sealed class ExportCommandTests(AzuriteFixture fixture) : IDisposable
{
    /// <summary><see cref="Registries.Sample"/> as export writes it: sorted, defaults left out, weight-1 instances as URLs.</summary>
    private const string SampleExported = """
        {
          "upstreams": [
            {
              "name": "echo",
              "instances": [
                "http://127.0.0.1:5080",
                {
                  "url": "http://127.0.0.1:5081",
                  "weight": 3
                }
              ]
            },
            {
              "name": "orders",
              "group": "shop",
              "instances": [
                "http://10.0.0.4:8080"
              ]
            }
          ],
          "routes": [
            {
              "id": "direct",
              "path": "/direct/{**rest}",
              "upstream": "http://127.0.0.1:5080",
              "auth": "anonymous"
            },
            {
              "id": "echo",
              "path": "/echo/{**rest}",
              "methods": [
                "GET",
                "POST"
              ],
              "headers": [
                {
                  "name": "X-Version",
                  "values": [
                    "2"
                  ]
                }
              ],
              "upstream": "echo",
              "stripPrefix": "/echo",
              "timeoutSeconds": 30,
              "auth": "anonymous"
            },
            {
              "id": "orders",
              "group": "shop",
              "path": "/api/orders/{id:int}",
              "upstream": "orders",
              "upstreamPath": "/orders/{id}",
              "priority": 5,
              "enabled": false,
              "preserveHost": true,
              "auth": [
                "corp-jwt",
                "partner-keys"
              ],
              "authorization": {
                "roles": [
                  "orders.admin"
                ],
                "claims": {
                  "tenant": [
                    "contoso"
                  ]
                }
              }
            }
          ]
        }

        """;

    private readonly CliHarness _cli = new(fixture);

    [Fact]
    public async Task Export_gives_the_sorted_canonical_file_and_importing_it_back_changes_nothing()
    {
        Assert.Equal(0, (await _cli.RunAsync("import", _cli.WriteFile(Registries.Sample))).ExitCode);

        var export = await _cli.RunAsync("export");

        Assert.True(export.ExitCode == 0, export.ToString());
        Assert.Equal(SampleExported, export.Stdout);

        var reimport = await _cli.RunAsync("import", _cli.WriteFile(export.Stdout, "exported.json"), "--prune");
        Assert.True(reimport.ExitCode == 0, reimport.ToString());
        Assert.Equal([$"= {Registries.SampleRows} unchanged"], reimport.StdoutLines);
    }

    [Fact]
    public async Task Routes_export_to_a_file_holds_only_the_routes_section()
    {
        Assert.Equal(0, (await _cli.RunAsync("import", _cli.WriteFile(Registries.Sample))).ExitCode);
        var path = _cli.PathOf("routes.json");

        var export = await _cli.RunAsync("routes", "export", "--output", path);

        Assert.True(export.ExitCode == 0, export.ToString());
        Assert.Equal([$"Exported 0 upstream(s) and 3 route(s) to {path}."], export.StdoutLines);
        var text = await File.ReadAllTextAsync(path);
        Assert.StartsWith("{\n  \"routes\": [", text, StringComparison.Ordinal);
        Assert.DoesNotContain("upstreams", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_row_that_cannot_be_read_is_reported_and_the_rest_is_still_exported()
    {
        Assert.Equal(0, (await _cli.RunAsync("import", _cli.WriteFile(Registries.Sample))).ExitCode);
        await _cli.WriteEntityDirectlyAsync(_cli.RoutesTable, new TableEntity("default", "handmade")
        {
            ["Path"] = "/handmade",
            ["Upstream"] = "echo",
            ["Auth"] = "anonymous",
            ["Priority"] = "high",
        });

        var export = await _cli.RunAsync("export");

        Assert.True(export.ExitCode == 1, export.ToString());
        Assert.Contains("route 'handmade' (group 'default') cannot be exported", export.Stderr, StringComparison.Ordinal);
        Assert.Contains("Priority must be a 32-bit integer", export.Stderr, StringComparison.Ordinal);
        Assert.Equal(SampleExported, export.Stdout);
    }

    [Fact]
    public async Task Rows_the_gateway_rejects_for_what_their_answers_say_are_exported_as_they_are()
    {
        Assert.Equal(0, (await _cli.RunAsync("import", _cli.WriteFile(Registries.Sample))).ExitCode);
        await _cli.WriteEntityDirectlyAsync(_cli.RoutesTable, new TableEntity("default", "fixed-bad")
        {
            ["Path"] = "/fixed-bad",
            ["Auth"] = "anonymous",
            ["FixedResponse"] = """{"status":204,"body":"not allowed"}""",
        });
        await _cli.WriteEntityDirectlyAsync(_cli.RoutesTable, new TableEntity("default", "composed-bad")
        {
            ["Path"] = "/composed-bad",
            ["Auth"] = "anonymous",
            ["Composition"] = """{"parts":[]}""",
        });

        var export = await _cli.RunAsync("export");
        var validate = await _cli.RunAsync("validate", _cli.WriteFile(export.Stdout));

        Assert.True(export.ExitCode == 0, export.ToString());
        Assert.Contains("\"fixed-bad\"", export.Stdout, StringComparison.Ordinal);
        Assert.Contains("\"composed-bad\"", export.Stdout, StringComparison.Ordinal);
        Assert.True(validate.ExitCode != 0, validate.ToString());
        Assert.Contains("cannot have a body", validate.ToString(), StringComparison.Ordinal);
    }

    public void Dispose() => _cli.Dispose();
}
