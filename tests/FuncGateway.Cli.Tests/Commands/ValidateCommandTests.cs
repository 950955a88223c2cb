using FuncGateway.Testing;

namespace FuncGateway.Cli.Tests.Commands;

[Collection(AzuriteCollection.Name)]
public sealed class ValidateCommandTests(AzuriteFixture fixture) : IDisposable
{
    private const string RouteOnEchoPool = """{ "routes": [ { "id": "extra", "path": "/extra", "upstream": "echo", "auth": "anonymous" } ] }""";

    private readonly CliHarness _cli = new(fixture);

    [Fact]
    public async Task A_valid_file_validates_offline_without_any_storage_configured()
    {
        var result = await CliHarness.RunRawAsync(["validate", _cli.WriteFile(Registries.Sample)]);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.EndsWith(": valid (2 upstream(s), 3 route(s)).", result.Stdout.TrimEnd(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Offline_every_rejected_row_is_printed_with_all_its_reasons()
    {
        const string json = """
            {
              "upstreams": [ { "name": "bad", "instances": [ "ftp://files", { "url": "http://a", "weight": 0 } ] } ],
              "routes": [
                { "id": "lost", "path": "/lost", "upstream": "echo", "methods": ["GET"], "timeoutSeconds": -1, "auth": "anonymous" },
                { "id": "inline", "path": "/inline", "upstream": "http://127.0.0.1:5080", "auth": "anonymous" }
              ]
            }
            """;

        var result = await CliHarness.RunRawAsync(["validate", _cli.WriteFile(json)]);

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("error: upstream 'bad' (upstreams[0], group 'default') is invalid:", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("  - Instance 'ftp://files' uses scheme 'ftp'", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("  - Instance 'http://a': weight 0 is outside 1–1000.", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("error: route 'lost' (routes[0], group 'default') is invalid:", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("  - Upstream 'echo' is neither a known upstream pool nor an absolute http(s) URL.", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("  - TimeoutSeconds -1 is outside (0, 3600].", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("'inline'", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Offline_an_anonymous_route_that_sets_what_only_an_authenticated_one_may_is_refused()
    {
        const string json = """
            {
              "routes": [
                { "id": "a", "path": "/a", "upstream": "http://127.0.0.1:5080", "auth": "anonymous", "authorization": { "roles": ["admin"] } },
                { "id": "b", "path": "/b", "upstream": "http://127.0.0.1:5080", "auth": "anonymous", "tokenQueryParameter": "t" },
                { "id": "c", "path": "/c", "upstream": "http://127.0.0.1:5080", "auth": "anonymous", "forwardAccessTokenQuery": true }
              ]
            }
            """;

        var result = await CliHarness.RunRawAsync(["validate", _cli.WriteFile(json)]);

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("Authorization needs an authenticated route", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("TokenQueryParameter and ApiKeyQueryParameter need an authenticated route.", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("ForwardAccessTokenQuery needs an authenticated route", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Against_storage_a_route_may_use_a_pool_that_only_the_table_holds()
    {
        Assert.Equal(0, (await _cli.RunAsync("import", _cli.WriteFile(Registries.Sample))).ExitCode);
        var file = _cli.WriteFile(RouteOnEchoPool, "extra.json");

        var offline = await _cli.RunAsync("routes", "validate", file);
        var online = await _cli.RunAsync("routes", "validate", file, "--against-storage");

        Assert.True(offline.ExitCode == 1, offline.ToString());
        Assert.True(online.ExitCode == 0, online.ToString());
        Assert.Contains("merged with the current tables", online.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Against_storage_with_prune_names_the_table_row_the_import_would_break()
    {
        Assert.Equal(0, (await _cli.RunAsync("import", _cli.WriteFile(Registries.Sample))).ExitCode);
        const string poolsWithoutOrders = """{ "upstreams": [ { "name": "echo", "instances": [ "http://127.0.0.1:5080" ] } ] }""";

        var result = await _cli.RunAsync("upstreams", "validate", _cli.WriteFile(poolsWithoutOrders), "--against-storage", "--prune");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("route 'orders' (group 'shop', already in the table) would be rejected after this import:", result.Stderr, StringComparison.Ordinal);
    }

    public void Dispose() => _cli.Dispose();
}
