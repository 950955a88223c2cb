using Azure.Data.Tables;
using FuncGateway.Testing;

namespace FuncGateway.Cli.Tests.RouteGroups;

/// <summary><c>--group</c> on routes list, export, import and validate: one group's routes, never another's.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class RouteGroupsCommandTests(AzuriteFixture fixture) : IDisposable
{
    private const string Registry = """
        {
          "routes": [
            { "id": "web-profile", "path": "/api/profile", "upstream": "web", "auth": "anonymous", "groups": ["web"] },
            { "id": "web-home", "path": "/home", "upstream": "http://10.0.0.1", "auth": "anonymous", "groups": ["web"] },
            { "id": "mobile-profile", "path": "/api/profile", "upstream": "http://10.0.0.2", "auth": "anonymous", "groups": ["mobile"] },
            { "id": "mobile-feed", "path": "/feed", "upstream": "http://10.0.0.2", "auth": "anonymous", "groups": ["mobile"] },
            { "id": "status", "path": "/status", "upstream": "http://10.0.0.3", "auth": "anonymous", "groups": ["web", "mobile"] }
          ],
          "upstreams": [
            { "name": "web", "instances": [ "http://10.0.0.1" ] },
            { "name": "unused", "instances": [ "http://10.0.0.9" ] }
          ]
        }
        """;

    private readonly CliHarness _cli = new(fixture);

    [Fact]
    public async Task The_same_path_in_two_groups_is_valid_and_each_group_lists_only_its_routes()
    {
        var validate = await _cli.RunAsync("validate", _cli.WriteFile(Registry));
        Assert.True(validate.ExitCode == 0, validate.ToString());

        Assert.Equal(0, (await _cli.RunAsync("import", _cli.WriteFile(Registry))).ExitCode);

        var web = await _cli.RunAsync("routes", "list", "--group", "WEB");
        Assert.True(web.ExitCode == 0, web.ToString());
        Assert.Equal(["status", "web-home", "web-profile"], web.StdoutLines[1..].Select(l => l.Split(' ')[0]));
        Assert.All(web.StdoutLines[1..], l => Assert.EndsWith("ok", l, StringComparison.Ordinal));

        var all = await _cli.RunAsync("routes", "list");
        Assert.Equal(6, all.StdoutLines.Length);
        Assert.DoesNotContain("REJECTED", all.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_group_export_holds_its_routes_and_the_pools_they_name()
    {
        await _cli.RunAsync("import", _cli.WriteFile(Registry));

        var export = await _cli.RunAsync("export", "--group", "web");

        Assert.True(export.ExitCode == 0, export.ToString());
        Assert.Contains("\"web-profile\"", export.Stdout, StringComparison.Ordinal);
        Assert.Contains("\"status\"", export.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("mobile-", export.Stdout, StringComparison.Ordinal);
        Assert.Contains("\"name\": \"web\"", export.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("unused", export.Stdout, StringComparison.Ordinal);
        Assert.Contains("\"groups\": [", export.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pruning_one_group_never_deletes_another_groups_routes_or_a_shared_route_or_a_pool()
    {
        await _cli.RunAsync("import", _cli.WriteFile(Registry));

        // The web team's file now holds only its profile route.
        var webFile = _cli.WriteFile("""
            { "routes": [ { "id": "web-profile", "path": "/api/profile", "upstream": "web", "auth": "anonymous", "groups": ["web"] } ] }
            """, "web.json");
        var result = await _cli.RunAsync("import", webFile, "--group", "web", "--prune");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("- route web-home", result.StdoutLines);
        Assert.Equal(1, result.StdoutLines.Count(l => l.StartsWith("- ", StringComparison.Ordinal)));
        Assert.Contains("warning: route 'status' (group 'default', already in the table) is not in the file but is kept:", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("also in route group(s) mobile", result.Stderr, StringComparison.Ordinal);

        var routes = (await CliHarness.ReadAsync(_cli.RoutesTable)).Select(e => e.RowKey);
        Assert.Equal(["mobile-feed", "mobile-profile", "status", "web-profile"], routes);
        Assert.Equal(["unused", "web"], (await CliHarness.ReadAsync(_cli.UpstreamsTable)).Select(e => e.RowKey));

        // The same file without --group would have pruned everything else.
        var unconfined = await _cli.RunAsync("import", webFile, "--prune", "--dry-run");
        Assert.Contains("- route mobile-feed", unconfined.StdoutLines);
    }

    [Fact]
    public async Task A_group_import_refuses_a_route_outside_the_group_and_one_that_would_replace_another_groups_route()
    {
        await _cli.RunAsync("import", _cli.WriteFile(Registry));
        var file = _cli.WriteFile("""
            { "routes": [
              { "id": "mobile-feed", "path": "/web-feed", "upstream": "web", "auth": "anonymous", "groups": ["web"] },
              { "id": "partner", "path": "/partner", "upstream": "web", "auth": "anonymous", "groups": ["partner"] }
            ] }
            """, "web.json");

        var result = await _cli.RunAsync("import", file, "--group", "web");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("Route id 'mobile-feed' is already used in the table outside route group 'web' (partition 'default', groups: mobile)", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("error: route 'partner' (routes[1], group 'default') is invalid:", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("It is not in route group 'web'", result.Stderr, StringComparison.Ordinal);
        Assert.Equal("/feed", (await CliHarness.ReadAsync(_cli.RoutesTable)).Single(e => e.RowKey == "mobile-feed")["Path"]);
    }

    [Theory]
    [InlineData("Groups", "web,web-app")]
    [InlineData("groups", "web")]
    public async Task A_route_whose_Groups_the_gateway_cannot_read_is_listed_and_exported_with_its_group_as_the_gateway_serves_and_rejects_it(string property, string value)
    {
        await _cli.RunAsync("import", _cli.WriteFile(Registry));
        await _cli.WriteEntityDirectlyAsync(_cli.RoutesTable, new TableEntity("default", "broken")
        {
            ["Path"] = "/broken",
            ["Upstream"] = "http://10.0.0.4",
            ["Auth"] = "anonymous",
            [property] = value,
        });

        var list = await _cli.RunAsync("routes", "list", "--group", "web");
        var row = Assert.Single(list.StdoutLines, l => l.StartsWith("broken ", StringComparison.Ordinal));
        Assert.Contains("REJECTED", row, StringComparison.Ordinal);
        Assert.Contains("status", list.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("mobile-", list.Stdout, StringComparison.Ordinal);

        var export = await _cli.RunAsync("export", "--group", "web");
        Assert.Equal(1, export.ExitCode);
        Assert.Contains("error: route 'broken' (group 'default') cannot be exported:", export.Stderr, StringComparison.Ordinal);
        Assert.Contains("\"web-profile\"", export.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("routes list")]
    [InlineData("export")]
    [InlineData("import registry.json")]
    public async Task A_group_name_the_gateway_would_refuse_is_a_usage_error(string command)
    {
        _cli.WriteFile(Registry);
        var result = await _cli.RunAsync([.. command.Replace("registry.json", _cli.PathOf("registry.json"), StringComparison.Ordinal).Split(' '), "--group", "web-app"]);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--group: 'web-app' is not a valid group name", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_warns_about_a_route_the_Functions_host_would_never_deliver()
    {
        var result = await _cli.RunAsync("validate", _cli.WriteFile("""
            { "routes": [ { "id": "hooks", "path": "/runtime/webhooks/{*rest}", "upstream": "http://10.0.0.1", "auth": "anonymous" } ] }
            """));

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("warning: route 'hooks' (routes[0], group 'default') is rejected by a gateway running as a Functions app (a FuncGateway.Server serves it):", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("under /runtime/webhooks/, which the Azure Functions host keeps for itself", result.Stderr, StringComparison.Ordinal);
    }

    public void Dispose() => _cli.Dispose();
}
