using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Azure.Data.Tables;
using FuncGateway.Testing;

namespace FuncGateway.Cli.Tests.Commands;

[Collection(AzuriteCollection.Name)]
public sealed class ImportCommandTests(AzuriteFixture fixture) : IDisposable
{
    private static readonly string[] SystemProperties = ["PartitionKey", "RowKey", "Timestamp", "odata.etag"];

    private readonly CliHarness _cli = new(fixture);

    [Fact]
    public async Task Import_into_empty_tables_writes_entities_exactly_as_the_registry_format_defines()
    {
        var result = await _cli.RunAsync("import", _cli.WriteFile(Registries.Sample));

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(
            ["+ upstream echo", "+ upstream orders", "+ route direct", "+ route echo", "+ route orders", "= 0 unchanged"],
            result.StdoutLines[..^1]);
        Assert.StartsWith("Imported into ", result.StdoutLines[^1], StringComparison.Ordinal);
        Assert.Equal("", result.Stderr);

        var upstreams = await CliHarness.ReadAsync(_cli.UpstreamsTable);
        Assert.Equal(["echo", "orders"], upstreams.Select(e => e.RowKey));
        var echoPool = upstreams[0];
        Assert.Equal("default", echoPool.PartitionKey);
        Assert.Equal(["Instances", "LoadBalancing"], UserProperties(echoPool));
        Assert.Equal("""[{"url":"http://127.0.0.1:5080","weight":1},{"url":"http://127.0.0.1:5081","weight":3}]""", echoPool["Instances"]);
        Assert.Equal("RoundRobin", echoPool["LoadBalancing"]);
        Assert.Equal("shop", upstreams[1].PartitionKey);
        Assert.Equal("""[{"url":"http://10.0.0.4:8080","weight":1}]""", upstreams[1]["Instances"]);

        var routes = await CliHarness.ReadAsync(_cli.RoutesTable);
        Assert.Equal(["direct", "echo", "orders"], routes.Select(e => e.RowKey));

        var direct = routes[0];
        Assert.Equal(["Auth", "Path", "Upstream"], UserProperties(direct));
        Assert.Equal("anonymous", direct["Auth"]);
        Assert.Equal("/direct/{**rest}", direct["Path"]);
        Assert.Equal("http://127.0.0.1:5080", direct["Upstream"]);

        var echo = routes[1];
        Assert.Equal("default", echo.PartitionKey);
        Assert.Equal(["Auth", "Headers", "Methods", "Path", "StripPrefix", "TimeoutSeconds", "Upstream"], UserProperties(echo));
        Assert.Equal("GET,POST", echo["Methods"]);
        Assert.Equal("""[{"name":"X-Version","values":["2"],"mode":"Exact","caseSensitive":false}]""", echo["Headers"]);
        Assert.Equal("/echo", echo["StripPrefix"]);
        Assert.IsType<double>(echo["TimeoutSeconds"]);
        Assert.Equal(30d, echo["TimeoutSeconds"]);

        var orders = routes[2];
        Assert.Equal("shop", orders.PartitionKey);
        Assert.Equal(["Auth", "Authorization", "Enabled", "Path", "PreserveHost", "Priority", "Upstream", "UpstreamPath"], UserProperties(orders));
        Assert.Equal("corp-jwt,partner-keys", orders["Auth"]);
        Assert.Equal("""{"roles":["orders.admin"],"claims":{"tenant":["contoso"]}}""", orders["Authorization"]);
        Assert.Equal("/api/orders/{id:int}", orders["Path"]);
        Assert.Equal("orders", orders["Upstream"]);
        Assert.Equal("/orders/{id}", orders["UpstreamPath"]);
        Assert.IsType<int>(orders["Priority"]);
        Assert.Equal(5, orders["Priority"]);
        Assert.Equal(false, orders["Enabled"]);
        Assert.Equal(true, orders["PreserveHost"]);
    }

    [Fact]
    public async Task Dry_run_prints_the_diff_and_writes_nothing_not_even_the_tables()
    {
        var result = await _cli.RunAsync("import", _cli.WriteFile(Registries.Sample), "--dry-run");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("+ route echo", result.StdoutLines);
        Assert.Contains("+ upstream orders", result.StdoutLines);
        Assert.Contains("Dry run: nothing was written.", result.StdoutLines);
        Assert.False(await _cli.TablesExistAsync());
    }

    [Fact]
    public async Task Importing_the_same_file_again_changes_nothing_and_writes_nothing()
    {
        var file = _cli.WriteFile(Registries.Sample);
        Assert.Equal(0, (await _cli.RunAsync("import", file)).ExitCode);
        var etagsBefore = await _cli.ETagsAsync();

        var again = await _cli.RunAsync("import", file);

        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Equal([$"= {Registries.SampleRows} unchanged"], again.StdoutLines);
        Assert.Equal(etagsBefore, await _cli.ETagsAsync());
    }

    [Fact]
    public async Task Changing_one_property_prints_a_change_line_naming_it_and_replaces_the_row()
    {
        Assert.Equal(0, (await _cli.RunAsync("import", _cli.WriteFile(Registries.Sample))).ExitCode);
        var changed = Registries.Sample.Replace("\"timeoutSeconds\": 30", "\"timeoutSeconds\": 45", StringComparison.Ordinal);

        var result = await _cli.RunAsync("routes", "import", _cli.WriteFile(changed, "changed.json"));

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(["~ route echo: TimeoutSeconds", "= 2 unchanged"], result.StdoutLines[..^1]);
        var echo = (await CliHarness.ReadAsync(_cli.RoutesTable)).Single(e => e.RowKey == "echo");
        Assert.Equal(45d, echo["TimeoutSeconds"]);
    }

    [Fact]
    public async Task A_row_edited_by_hand_with_the_same_meaning_is_unchanged()
    {
        await _cli.WriteEntityDirectlyAsync(_cli.RoutesTable, new TableEntity("default", "echo")
        {
            ["Path"] = " /echo ",
            ["Methods"] = "GET, POST",
            ["Priority"] = "5",
            ["Upstream"] = "http://127.0.0.1:5080",
            ["Auth"] = " anonymous ",
        });
        const string same = """{ "routes": [ { "id": "echo", "path": "/echo", "methods": ["GET", "POST"], "priority": 5, "upstream": "http://127.0.0.1:5080", "auth": "anonymous" } ] }""";

        var result = await _cli.RunAsync("import", _cli.WriteFile(same));

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(["= 1 unchanged"], result.StdoutLines);
    }

    [Fact]
    public async Task A_route_given_another_group_moves_to_the_new_partition()
    {
        Assert.Equal(0, (await _cli.RunAsync("import", _cli.WriteFile(Registries.Sample))).ExitCode);
        var moved = Registries.Sample.Replace("{ \"id\": \"direct\",", "{ \"id\": \"direct\", \"group\": \"edge\",", StringComparison.Ordinal);

        var result = await _cli.RunAsync("routes", "import", _cli.WriteFile(moved, "moved.json"));

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("~ route direct: Group (moved from group 'default')", result.StdoutLines);
        var direct = Assert.Single(await CliHarness.ReadAsync(_cli.RoutesTable), e => e.RowKey == "direct");
        Assert.Equal("edge", direct.PartitionKey);
    }

    [Fact]
    public async Task Prune_deletes_the_rows_of_the_imported_section_that_the_file_does_not_hold()
    {
        Assert.Equal(0, (await _cli.RunAsync("import", _cli.WriteFile(Registries.Sample))).ExitCode);
        const string onlyDirect = """{ "routes": [ { "id": "direct", "path": "/direct/{**rest}", "upstream": "http://127.0.0.1:5080", "auth": "anonymous" } ] }""";

        var result = await _cli.RunAsync("import", _cli.WriteFile(onlyDirect, "pruned.json"), "--prune");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(["- route echo", "- route orders", "= 1 unchanged"], result.StdoutLines[..^1]);
        Assert.Equal(["direct"], (await CliHarness.ReadAsync(_cli.RoutesTable)).Select(e => e.RowKey));

        // The file has no upstreams section, so the pools were not part of the import and stay.
        Assert.Equal(["echo", "orders"], (await CliHarness.ReadAsync(_cli.UpstreamsTable)).Select(e => e.RowKey));
    }

    [Fact]
    public async Task Prune_is_refused_when_it_would_strand_a_route_and_nothing_is_deleted()
    {
        Assert.Equal(0, (await _cli.RunAsync("import", _cli.WriteFile(Registries.Sample))).ExitCode);
        const string withoutEcho = """{ "upstreams": [ { "name": "orders", "group": "shop", "instances": [ "http://10.0.0.4:8080" ] } ] }""";

        var result = await _cli.RunAsync("upstreams", "import", _cli.WriteFile(withoutEcho, "pools.json"), "--prune");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("route 'echo' (group 'default', already in the table) would be rejected after this import", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("Upstream 'echo' is neither a known upstream pool nor an absolute http(s) URL.", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("Nothing was written.", result.Stderr, StringComparison.Ordinal);
        Assert.Equal("", result.Stdout);
        Assert.Equal(["echo", "orders"], (await CliHarness.ReadAsync(_cli.UpstreamsTable)).Select(e => e.RowKey));
    }

    [Theory]
    [InlineData(
        """{ "routes": [ { "id": "broken", "path": "/orders/{id", "upstream": "http://127.0.0.1:5080", "auth": "anonymous" } ] }""",
        "route 'broken' (routes[0], group 'default') is invalid", "/orders/{id")]
    [InlineData(
        """{ "routes": [ { "id": "lost", "path": "/lost", "upstream": "nowhere", "auth": "anonymous" } ] }""",
        "route 'lost' (routes[0], group 'default') is invalid", "Upstream 'nowhere' is neither a known upstream pool nor an absolute http(s) URL.")]
    [InlineData(
        """{ "routes": [ { "id": "typo", "path": "/typo", "upstream": "http://127.0.0.1:5080", "auth": "anonymous", "stripprefx": "/typo" } ] }""",
        "line 1, column ", "at routes[0].stripprefx: Unknown property 'stripprefx' in a route object.")]
    [InlineData(
        """{ "routes": [ { "id": "cut", "path": "/cut", """,
        "line 1, column ", "registry.json")]
    public async Task An_invalid_file_is_refused_with_the_row_and_reason_and_nothing_is_written(string json, string where, string reason)
    {
        var result = await _cli.RunAsync("import", _cli.WriteFile(json));

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains(where, result.Stderr, StringComparison.Ordinal);
        Assert.Contains(reason, result.Stderr, StringComparison.Ordinal);
        Assert.False(await _cli.TablesExistAsync());
    }

    [Fact]
    public async Task A_bad_row_refuses_the_whole_file_even_when_the_other_rows_are_valid()
    {
        Assert.Equal(0, (await _cli.RunAsync("import", _cli.WriteFile(Registries.Sample))).ExitCode);
        var etagsBefore = await _cli.ETagsAsync();
        var mixed = Registries.Sample.Replace("\"timeoutSeconds\": 30", "\"timeoutSeconds\": 45", StringComparison.Ordinal)
            .Replace("\"upstream\": \"orders\"", "\"upstream\": \"payments\"", StringComparison.Ordinal);

        var result = await _cli.RunAsync("import", _cli.WriteFile(mixed, "mixed.json"));

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("route 'orders' (routes[1], group 'shop') is invalid", result.Stderr, StringComparison.Ordinal);
        Assert.Equal(etagsBefore, await _cli.ETagsAsync());
    }

    [Fact]
    public async Task More_than_a_hundred_routes_in_one_partition_are_written_in_several_transactions()
    {
        const int count = 250;
        var routes = Enumerable.Range(0, count).Select(i => $$"""{ "id": "r{{i:D3}}", "path": "/r{{i:D3}}/{**rest}", "upstream": "echo", "auth": "anonymous" }""");
        var json = $$"""{ "upstreams": [ { "name": "echo", "instances": [ "http://127.0.0.1:5080" ] } ], "routes": [ {{string.Join(",\n", routes)}} ] }""";
        var file = _cli.WriteFile(json);

        var result = await _cli.RunAsync("import", file);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(count + 3, result.StdoutLines.Length); // "+" for the pool and each route, "= 0 unchanged", the summary
        var stored = await CliHarness.ReadAsync(_cli.RoutesTable);
        Assert.Equal(count, stored.Count);
        Assert.All(stored, e => Assert.Equal("default", e.PartitionKey));
        Assert.Equal([$"= {count + 1} unchanged"], (await _cli.RunAsync("import", file)).StdoutLines);
    }

    [Fact]
    public async Task Importing_a_file_with_no_rows_creates_lost_registry_tables_so_that_a_starting_gateway_serves_the_empty_registry()
    {
        // A gateway has seen the tables: one that starts after they are lost does not create them (an outage).
        Assert.Equal(0, (await _cli.RunAsync("import", _cli.WriteFile("""{ "routes": [ { "id": "a", "path": "/a", "upstream": "http://127.0.0.1:5080", "auth": "anonymous" } ] }"""))).ExitCode);
        await using (var seen = await RunningGateway.StartAsync(_cli, ("FuncGateway:Admin:Key", AdminKey)))
        {
            Assert.Equal(HttpStatusCode.OK, await ReloadAsync(seen));
        }

        var service = new TableServiceClient(_cli.ConnectionString);
        foreach (var table in (string[])["Routes", "Upstreams", "Schemas"])
        {
            await service.DeleteTableAsync(_cli.Prefix + table);
        }

        await using var gateway = await RunningGateway.StartAsync(_cli, ("FuncGateway:Admin:Key", AdminKey), ("FuncGateway:Registry:StartupWaitSeconds", "0"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, await ReloadAsync(gateway));

        // An empty registry on purpose: nothing to write, yet the import creates the tables, and that ends the outage.
        var result = await _cli.RunAsync("import", _cli.WriteFile("""{ "upstreams": [], "routes": [] }"""));

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.True(await _cli.TablesExistAsync());
        Assert.Equal(HttpStatusCode.OK, await ReloadAsync(gateway));
        using var client = new HttpClient { BaseAddress = gateway.Address };
        using var healthz = await client.GetAsync("/_gateway/healthz");
        Assert.Equal(HttpStatusCode.OK, healthz.StatusCode);
        Assert.Equal(0, (await healthz.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("routes").GetInt32());
    }

    private const string AdminKey = "import-tests-admin-key-0123456789";

    private static async Task<HttpStatusCode> ReloadAsync(RunningGateway gateway)
    {
        using var client = new HttpClient { BaseAddress = gateway.Address };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/_gateway/reload");
        request.Headers.Add("X-Admin-Key", AdminKey);
        using var response = await client.SendAsync(request);
        return response.StatusCode;
    }

    private static string[] UserProperties(TableEntity entity) =>
        [.. entity.Keys.Except(SystemProperties).Order(StringComparer.Ordinal)];

    public void Dispose() => _cli.Dispose();
}
