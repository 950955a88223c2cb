using Azure.Data.Tables;
using FuncGateway.Testing;

namespace FuncGateway.Cli.Tests.Commands;

[Collection(AzuriteCollection.Name)]
public sealed class ListCommandTests(AzuriteFixture fixture) : IDisposable
{
    private readonly CliHarness _cli = new(fixture);

    [Fact]
    public async Task Routes_list_shows_each_route_with_ok_disabled_or_the_reason_it_is_rejected()
    {
        Assert.Equal(0, (await _cli.RunAsync("import", _cli.WriteFile(Registries.Sample))).ExitCode);
        await _cli.WriteEntityDirectlyAsync(_cli.RoutesTable, new TableEntity("default", "handmade")
        {
            ["Path"] = "/handmade",
            ["Upstream"] = "payments",
            ["Auth"] = "anonymous",
        });

        var list = await _cli.RunAsync("routes", "list");

        Assert.True(list.ExitCode == 0, list.ToString());
        var lines = list.StdoutLines;
        Assert.Equal(5, lines.Length);
        Assert.Matches(@"^ID\s+GROUP\s+PATH\s+METHODS\s+UPSTREAM\s+STATUS$", lines[0]);
        Assert.Matches(@"^direct\s+default\s+/direct/\{\*\*rest\}\s+\*\s+http://127\.0\.0\.1:5080\s+ok$", lines[1]);
        Assert.Matches(@"^echo\s+default\s+/echo/\{\*\*rest\}\s+GET,POST\s+echo\s+ok$", lines[2]);
        Assert.Matches(@"^handmade\s+default\s+/handmade\s+\*\s+payments\s+REJECTED: Upstream 'payments' is neither a known upstream pool nor an absolute http\(s\) URL\.$", lines[3]);
        Assert.Matches(@"^orders\s+shop\s+/api/orders/\{id:int\}\s+\*\s+orders\s+disabled$", lines[4]);

        // Columns line up: the status column starts at the same offset on every line.
        var status = lines[0].IndexOf("STATUS", StringComparison.Ordinal);
        Assert.Equal(
            ["STATUS", "ok", "ok", "REJECTED: Upstream 'payments' is neither a known upstream pool nor an absolute http(s) URL.", "disabled"],
            lines.Select(l => l[status..]));
    }

    [Fact]
    public async Task Upstreams_list_shows_policy_instances_and_status()
    {
        Assert.Equal(0, (await _cli.RunAsync("import", _cli.WriteFile(Registries.Sample))).ExitCode);
        await _cli.WriteEntityDirectlyAsync(_cli.UpstreamsTable, new TableEntity("default", "broken")
        {
            ["Instances"] = """["ftp://files"]""",
        });

        var list = await _cli.RunAsync("upstreams", "list");

        Assert.True(list.ExitCode == 0, list.ToString());
        var lines = list.StdoutLines;
        Assert.Matches(@"^NAME\s+GROUP\s+POLICY\s+INSTANCES\s+STATUS$", lines[0]);
        Assert.Matches(@"^broken\s+default\s+RoundRobin\s+ftp://files\s+REJECTED: Instance 'ftp://files' uses scheme 'ftp'", lines[1]);
        Assert.Matches(@"^echo\s+default\s+RoundRobin\s+http://127\.0\.0\.1:5080, http://127\.0\.0\.1:5081 \(weight 3\)\s+ok$", lines[2]);
        Assert.Matches(@"^orders\s+shop\s+RoundRobin\s+http://10\.0\.0\.4:8080\s+ok$", lines[3]);
    }

    [Fact]
    public async Task Listing_before_anything_was_imported_says_so()
    {
        var list = await _cli.RunAsync("routes", "list");

        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.Equal([$"No routes in {_cli.Prefix}Routes."], list.StdoutLines);
    }

    [Fact]
    public async Task A_registry_with_only_one_of_its_tables_is_reported_not_read_as_empty()
    {
        await _cli.RoutesTable.CreateAsync();
        await _cli.RoutesTable.AddEntityAsync(new TableEntity("default", "r") { ["Path"] = "/r", ["Upstream"] = "http://127.0.0.1:5080" });

        var list = await _cli.RunAsync("routes", "list");

        Assert.True(list.ExitCode == 3, list.ToString());
        Assert.Equal($"error: Table '{_cli.Prefix}Upstreams' does not exist although '{_cli.Prefix}Routes' does. An import (without --dry-run) creates it.\n", list.Stderr);
    }

    public void Dispose() => _cli.Dispose();
}
