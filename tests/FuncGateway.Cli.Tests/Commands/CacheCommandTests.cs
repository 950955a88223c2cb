using Azure.Data.Tables;
using FuncGateway.Caching;
using FuncGateway.Testing;

namespace FuncGateway.Cli.Tests.Commands;

[Collection(AzuriteCollection.Name)]
public sealed class CacheCommandTests(AzuriteFixture fixture) : IDisposable
{
    private readonly CliHarness _cli = new(fixture);

    private TableClient PurgeTable => new TableServiceClient(_cli.ConnectionString).GetTableClient(CachePurgeTable.Name(_cli.Prefix));

    [Fact]
    public async Task Purge_records_one_row_per_request_in_the_purge_table()
    {
        var byRoute = await _cli.RunAsync("cache", "purge", "--route", "orders");
        var byPrefix = await _cli.RunAsync("cache", "purge", "--prefix", "/orders/42");
        var byTag = await _cli.RunAsync("cache", "purge", "--tag", "product-42");

        Assert.True(byRoute.ExitCode == 0, byRoute.ToString());
        Assert.True(byPrefix.ExitCode == 0, byPrefix.ToString());
        Assert.True(byTag.ExitCode == 0, byTag.ToString());
        Assert.Contains("route orders", byRoute.Stdout, StringComparison.Ordinal);
        var rows = (await CliHarness.ReadAsync(PurgeTable)).Select(e => (e.PartitionKey, e.GetString("Kind"), e.GetString("Value"))).Order().ToList();
        Assert.Equal([("purge", "Prefix", "/orders/42"), ("purge", "Route", "orders"), ("purge", "Tag", "product-42")], rows);
    }

    [Theory]
    [InlineData("--route", "a", "--tag", "b")]
    [InlineData("--prefix", "no-slash")]
    [InlineData("--tag", " ")]
    public async Task Purge_refuses_anything_but_exactly_one_valid_target(params string[] args)
    {
        await PurgeTable.CreateIfNotExistsAsync();
        var result = await _cli.RunAsync(["cache", "purge", .. args]);
        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Empty(await CliHarness.ReadAsync(PurgeTable));
    }

    [Fact]
    public async Task Purge_needs_a_target()
    {
        var result = await _cli.RunAsync("cache", "purge");
        Assert.Equal(ExitCodes.Usage, result.ExitCode);
    }

    [Fact]
    public async Task Validate_reads_the_cache_property_as_native_json_and_refuses_what_the_gateway_refuses()
    {
        var file = _cli.WriteFile("""
            {"upstreams":[{"name":"catalog","instances":[{"url":"http://127.0.0.1:9"}]}],
             "routes":[{"id":"ok","path":"/ok","upstream":"catalog","auth":"anonymous",
                        "cache":{"ttlSeconds":60,"headers":["X-Name"]},"transforms":[{"RequestHeader":"X-Copy","Set":"{Header:X-Name}"}]},
                       {"id":"leaky","path":"/leaky","upstream":"catalog","auth":"anonymous",
                        "cache":{"ttlSeconds":60},"transforms":[{"RequestHeader":"X-Copy","Set":"{Header:X-Name}"}]},
                       {"id":"no-ttl","path":"/no-ttl","upstream":"catalog","auth":"anonymous","cache":{"shared":false}}]}
            """);
        var result = await CliHarness.RunRawAsync(["validate", file]);

        Assert.Equal(ExitCodes.InvalidInput, result.ExitCode);
        Assert.Contains("route 'leaky'", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("header 'X-Name'", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("Cache.ttlSeconds must be between 1", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("route 'ok'", result.Stderr, StringComparison.Ordinal);
    }

    public void Dispose() => _cli.Dispose();
}
