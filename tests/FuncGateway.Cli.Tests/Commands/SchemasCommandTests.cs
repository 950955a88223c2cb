using Azure.Data.Tables;
using FuncGateway.Testing;

namespace FuncGateway.Cli.Tests.Commands;

/// <summary><c>fgw schemas import/export</c> against Azurite: schemas compile before anything is written, round-trip, and are never pruned from under a route.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class SchemasCommandTests(AzuriteFixture fixture) : IDisposable
{
    private const string File = """
        {
          "schemas": {
            "order": {
              "type": "object",
              "required": [
                "email"
              ],
              "properties": {
                "email": {
                  "type": "string",
                  "format": "email"
                }
              }
            },
            "tag": {
              "type": "string",
              "pattern": "^[a-z+]+$"
            }
          }
        }

        """;

    private readonly CliHarness _cli = new(fixture);

    private TableClient Schemas => new TableServiceClient(_cli.ConnectionString).GetTableClient(_cli.Prefix + "Schemas");

    [Fact]
    public async Task Importing_no_schemas_still_creates_a_missing_Schemas_table()
    {
        Assert.Equal(0, (await _cli.RunAsync("schemas", "import", _cli.WriteFile(File, "schemas.json"))).ExitCode);
        await Schemas.DeleteAsync();

        var result = await _cli.RunAsync("schemas", "import", _cli.WriteFile("""{ "schemas": {} }""", "empty.json"));

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Empty(await CliHarness.ReadAsync(Schemas)); // the table exists again: reading it does not fail
    }

    [Fact]
    public async Task Import_writes_each_schema_as_a_row_and_export_gives_the_same_file_back()
    {
        var path = _cli.WriteFile(File, "schemas.json");

        var import = await _cli.RunAsync("schemas", "import", path);
        var again = await _cli.RunAsync("schemas", "import", path);
        var export = await _cli.RunAsync("schemas", "export");

        Assert.Equal(0, import.ExitCode);
        Assert.Equal(["+ schema order", "+ schema tag", "= 0 unchanged"], import.StdoutLines[..3]);
        Assert.Equal(["= 2 unchanged"], again.StdoutLines);
        Assert.Equal("""{"type":"string","pattern":"^[a-z+]+$"}""", (await Schemas.GetEntityAsync<TableEntity>("default", "tag")).Value.GetString("Schema"));
        Assert.Equal(File.ReplaceLineEndings("\n"), export.Stdout);
    }

    [Fact]
    public async Task A_schema_that_does_not_compile_refuses_the_whole_import_and_writes_nothing()
    {
        var path = _cli.WriteFile("""{"schemas":{"good":{"type":"object"},"bad":{"$ref":"#/$defs/missing"}}}""", "bad.json");

        var result = await _cli.RunAsync("schemas", "import", path);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("schema 'bad'", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("does not resolve inside the schema", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("Nothing was written.", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("\"good\"", (await _cli.RunAsync("schemas", "export")).Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Prune_deletes_schemas_the_file_leaves_out_but_never_one_a_route_names()
    {
        await _cli.RunAsync("schemas", "import", _cli.WriteFile(File, "all.json"));
        await _cli.RoutesTable.CreateIfNotExistsAsync();
        await _cli.RoutesTable.UpsertEntityAsync(new TableEntity("default", "orders")
        {
            ["Path"] = "/orders", ["Upstream"] = "http://10.0.0.1", ["Auth"] = "anonymous", ["Validation"] = """{"schema":"order"}""",
        });
        var onlyTag = _cli.WriteFile("""{"schemas":{"tag":{"type":"string","pattern":"^[a-z+]+$"}}}""", "tag.json");
        var onlyOrder = _cli.WriteFile("""{"schemas":{"order":{"type":"object","required":["email"],"properties":{"email":{"type":"string","format":"email"}}}}}""", "order.json");

        var refused = await _cli.RunAsync("schemas", "import", onlyTag, "--prune");
        var pruned = await _cli.RunAsync("schemas", "import", onlyOrder, "--prune");

        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("route 'orders' names it", refused.Stderr, StringComparison.Ordinal);
        Assert.Equal(0, pruned.ExitCode);
        Assert.Contains("- schema tag", pruned.StdoutLines);
        Assert.Equal(["order"], Schemas.Query<TableEntity>().Select(e => e.RowKey));
    }

    public void Dispose() => _cli.Dispose();
}
