using Azure;
using Azure.Data.Tables;
using FuncGateway.Testing;

namespace FuncGateway.Cli.Tests.Commands;

/// <summary>
/// An import never overwrites (or deletes) a row that changed in storage after it read it: writes carry the ETags
/// read (<c>If-Match</c>, <c>If-None-Match: *</c>), a check before the first write catches most changes before
/// anything is written, and the command stops with exit code 4 naming the rows. <c>--force</c> writes regardless.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class ImportConflictTests(AzuriteFixture fixture) : IDisposable
{
    private readonly CliHarness _cli = new(fixture);

    /// <summary>The sample with its echo route's timeout, its orders pool's instance and a new route set by one user.</summary>
    private static string Edit(int timeout, string instance, string extraPath) => Registries.Sample
        .Replace("\"timeoutSeconds\": 30", $"\"timeoutSeconds\": {timeout}", StringComparison.Ordinal)
        .Replace("http://10.0.0.4:8080", instance, StringComparison.Ordinal)
        .Replace("\"routes\": [", $$"""  "routes": [ { "id": "extra", "path": "{{extraPath}}", "upstream": "echo", "auth": "anonymous" },""", StringComparison.Ordinal);

    [Fact]
    public async Task Two_concurrent_imports_of_the_same_rows_one_succeeds_and_the_other_stops_with_the_conflict_having_changed_nothing()
    {
        Assert.Equal(0, (await _cli.RunAsync("import", _cli.WriteFile(Registries.Sample))).ExitCode);
        var files = new[]
        {
            _cli.WriteFile(Edit(45, "http://10.0.0.5:8080", "/extra-a"), "a.json"),
            _cli.WriteFile(Edit(60, "http://10.0.0.6:8080", "/extra-b"), "b.json"),
        };

        // Both runs read the tables before either writes: each plans against the same rows.
        var bothRead = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var arrived = 0;
        Task Checkpoint(CliCheckpoint point)
        {
            if (point != CliCheckpoint.Read)
            {
                return Task.CompletedTask;
            }

            if (Interlocked.Increment(ref arrived) == 2)
            {
                bothRead.SetResult();
            }

            return bothRead.Task.WaitAsync(TimeSpan.FromSeconds(60));
        }

        var results = await Task.WhenAll(files.Select(f => Task.Run(() => _cli.RunAsync(Checkpoint, "import", f))));

        Assert.True(results.Select(r => r.ExitCode).Order().SequenceEqual([0, 4]), string.Join("\n", results.Select(r => r.ToString())));
        var winner = Array.FindIndex(results, r => r.ExitCode == 0);
        var loser = results[1 - winner];
        Assert.Contains("+ route extra", results[winner].StdoutLines);
        Assert.StartsWith("Imported into ", results[winner].StdoutLines[^1], StringComparison.Ordinal);
        Assert.Contains("row(s) changed in storage after fgw read them:", loser.Stderr, StringComparison.Ordinal);
        Assert.Contains("Import stopped: nothing was written.", loser.Stderr, StringComparison.Ordinal);
        Assert.Contains("add --force to overwrite them", loser.Stderr, StringComparison.Ordinal);

        // The tables hold exactly the winner's file: nothing of the loser's reached them.
        var again = await _cli.RunAsync("import", files[winner], "--dry-run");
        Assert.Equal([$"= {Registries.SampleRows + 1} unchanged", "Dry run: nothing was written."], again.StdoutLines);
        var routes = await CliHarness.ReadAsync(_cli.RoutesTable);
        Assert.Equal(winner == 0 ? 45d : 60d, routes.Single(e => e.RowKey == "echo")["TimeoutSeconds"]);
        Assert.Equal(winner == 0 ? "/extra-a" : "/extra-b", routes.Single(e => e.RowKey == "extra")["Path"]);
    }

    [Fact]
    public async Task A_row_edited_between_read_and_write_stops_the_import_before_anything_is_written()
    {
        Assert.Equal(0, (await _cli.RunAsync("import", _cli.WriteFile(Registries.Sample))).ExitCode);
        var before = await _cli.ETagsAsync();
        var file = _cli.WriteFile(Edit(45, "http://10.0.0.5:8080", "/extra"), "edit.json");

        var result = await _cli.RunAsync(
            point => point == CliCheckpoint.Read ? EditEchoRouteAsync(timeout: 99) : Task.CompletedTask,
            "import", file);

        Assert.True(result.ExitCode == 4, result.ToString());
        Assert.Equal(
            ["error: 1 row(s) changed in storage after fgw read them:", "  ~ route 'echo' (group 'default') was changed", "Import stopped: nothing was written."],
            result.Stderr.Split('\n')[..3]);

        // The edit stays, and no other row was touched (the pool comes first in the write order).
        var routes = await CliHarness.ReadAsync(_cli.RoutesTable);
        Assert.Equal(99d, routes.Single(e => e.RowKey == "echo")["TimeoutSeconds"]);
        Assert.DoesNotContain(routes, e => e.RowKey == "extra");
        var after = await _cli.ETagsAsync();
        after.Remove("route/default/echo");
        before.Remove("route/default/echo");
        Assert.Equal(before, after);
    }

    [Fact]
    public async Task A_row_edited_just_before_its_write_is_never_overwritten_without_force()
    {
        Assert.Equal(0, (await _cli.RunAsync("import", _cli.WriteFile(Registries.Sample))).ExitCode);
        var file = _cli.WriteFile(Edit(45, "http://10.0.0.5:8080", "/extra"), "edit.json");

        // After fgw's last check, before its first write: only the conditional write itself can notice.
        var result = await _cli.RunAsync(
            point => point == CliCheckpoint.BeforeWrite ? EditEchoRouteAsync(timeout: 99) : Task.CompletedTask,
            "import", file);

        Assert.True(result.ExitCode == 4, result.ToString());
        Assert.Contains("  ~ route 'echo' (group 'default') was changed", result.Stderr.Split('\n'));
        Assert.Contains("Import stopped part-way: 1 row(s) were written before the conflict (each unchanged since it was read), 2 were not:", result.Stderr.Split('\n'));
        Assert.Contains("  written: ~ upstream 'orders' (group 'shop')", result.Stderr.Split('\n'));
        var routes = await CliHarness.ReadAsync(_cli.RoutesTable);
        Assert.Equal(99d, routes.Single(e => e.RowKey == "echo")["TimeoutSeconds"]);

        // The route's transaction (echo and the new route, one partition) was refused as a whole.
        Assert.DoesNotContain(routes, e => e.RowKey == "extra");

        // --force keeps the old behaviour: the file wins over the edit.
        var forced = await _cli.RunAsync(
            point => point == CliCheckpoint.BeforeWrite ? EditEchoRouteAsync(timeout: 98) : Task.CompletedTask,
            "import", file, "--force");
        Assert.True(forced.ExitCode == 0, forced.ToString());
        routes = await CliHarness.ReadAsync(_cli.RoutesTable);
        Assert.Equal(45d, routes.Single(e => e.RowKey == "echo")["TimeoutSeconds"]);
        Assert.Equal("/extra", routes.Single(e => e.RowKey == "extra")["Path"]);
    }

    [Fact]
    public async Task Prune_never_deletes_a_row_created_or_edited_after_the_read()
    {
        Assert.Equal(0, (await _cli.RunAsync("import", _cli.WriteFile(Registries.Sample))).ExitCode);
        var onlyDirect = _cli.WriteFile("""{ "routes": [ { "id": "direct", "path": "/direct/{**rest}", "upstream": "http://127.0.0.1:5080", "auth": "anonymous" } ] }""", "pruned.json");

        // A route added while the import runs was never in its diff: it is not deleted, and nothing else is.
        var added = await _cli.RunAsync(
            point => point == CliCheckpoint.Read
                ? _cli.RoutesTable.AddEntityAsync(new TableEntity("team", "late") { ["Path"] = "/late", ["Upstream"] = "echo", ["Auth"] = "anonymous" })
                : Task.CompletedTask,
            "import", onlyDirect, "--prune");

        Assert.True(added.ExitCode == 4, added.ToString());
        Assert.Contains("  + route 'late' (group 'team') was added", added.Stderr.Split('\n'));
        Assert.Equal(["direct", "echo", "late", "orders"], (await CliHarness.ReadAsync(_cli.RoutesTable)).Select(e => e.RowKey));

        // A route edited just before its deletion keeps the edit. Deletions run in group order: default's echo
        // goes, shop's orders meets the edit.
        await _cli.RoutesTable.DeleteEntityAsync("team", "late");
        var edited = await _cli.RunAsync(
            point => point == CliCheckpoint.BeforeWrite
                ? _cli.RoutesTable.UpdateEntityAsync(new TableEntity("shop", "orders") { ["Priority"] = 7 }, ETag.All, TableUpdateMode.Merge)
                : Task.CompletedTask,
            "import", onlyDirect, "--prune");

        Assert.True(edited.ExitCode == 4, edited.ToString());
        Assert.Contains("  ~ route 'orders' (group 'shop') was changed", edited.Stderr.Split('\n'));
        Assert.Contains("  written: - route 'echo' (group 'default')", edited.Stderr.Split('\n'));
        var orders = Assert.Single(await CliHarness.ReadAsync(_cli.RoutesTable), e => e.RowKey == "orders");
        Assert.Equal(7, orders["Priority"]);
    }

    private async Task EditEchoRouteAsync(int timeout) =>
        await _cli.RoutesTable.UpdateEntityAsync(new TableEntity("default", "echo") { ["TimeoutSeconds"] = (double)timeout }, ETag.All, TableUpdateMode.Merge);

    public void Dispose() => _cli.Dispose();
}
