using System.Diagnostics;
using System.Net.Http.Json;
using Azure.Data.Tables;
using FuncGateway.Cli.Commands;
using FuncGateway.Testing;

namespace FuncGateway.Cli.Tests.Commands;

/// <summary><c>fgw pools list/show</c> against a real gateway whose pool gets an instance by self-registration.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class PoolsCommandTests(AzuriteFixture fixture) : IDisposable
{
    private const string AdminKey = "pools-admin-key-0123456789";

    private readonly CliHarness _cli = new(fixture);

    [Fact]
    public async Task List_and_show_tell_static_from_discovered_instances_and_the_source_state()
    {
        await using var upstream = await TestUpstream.StartAsync("a");
        await _cli.UpstreamsTable.CreateIfNotExistsAsync();
        await _cli.UpstreamsTable.UpsertEntityAsync(new TableEntity("default", "orders")
        {
            ["Instances"] = "[\"http://10.0.0.9:8080\"]",
            ["Discovery"] = "{\"Source\":\"registration\"}",
        });
        await _cli.UpstreamsTable.UpsertEntityAsync(new TableEntity("default", "billing") { ["Instances"] = "[\"http://10.0.0.8:8080\"]" });
        await using var gateway = await RunningGateway.StartAsync(
            _cli, ("FuncGateway:Admin:Key", AdminKey), ("FuncGateway:Registry:RefreshIntervalSeconds", "0.5"), ("FuncGateway:Discovery:Registration:RefreshSeconds", "1"));
        using var client = new HttpClient { BaseAddress = gateway.Address };
        var environment = new Dictionary<string, string?> { [PoolsCommand.GatewayVariable] = gateway.Address.ToString(), [PoolsCommand.AdminKeyVariable] = AdminKey };
        var instance = upstream.BaseAddress.ToString().TrimEnd('/');

        var clock = Stopwatch.StartNew();
        CliResult show;
        while (true)
        {
            using var register = new HttpRequestMessage(HttpMethod.Put, "/_gateway/pools/orders/instances/a-1") { Content = JsonContent.Create(new { url = instance, leaseSeconds = 60 }) };
            register.Headers.Add("X-Admin-Key", AdminKey);
            using var registered = await client.SendAsync(register);
            show = await CliHarness.RunRawAsync(["pools", "show", "orders"], environment);
            if (show.Stdout.Contains(instance, StringComparison.Ordinal) || clock.Elapsed > TimeSpan.FromSeconds(20))
            {
                break;
            }

            await Task.Delay(200);
        }

        Assert.True(show.ExitCode == 0, show.ToString());
        Assert.Contains("Source:         registration {\"Source\":\"registration\"}", show.Stdout, StringComparison.Ordinal);
        Assert.Contains("State:          ok", show.Stdout, StringComparison.Ordinal);
        Assert.Matches($@"{instance.Replace(".", @"\.", StringComparison.Ordinal)}\s+1\s+discovered", show.Stdout);
        Assert.Matches(@"http://10\.0\.0\.9:8080\s+1\s+static", show.Stdout);

        var list = await CliHarness.RunRawAsync(["pools", "list", "--gateway", gateway.Address.ToString(), "--admin-key", AdminKey]);
        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.Matches(@"^POOL\s+SOURCE\s+STATE\s+INSTANCES\s+DISCOVERED\s+LAST REFRESH\s+LAST ERROR", list.StdoutLines[0]);
        Assert.Matches(@"^billing\s+static\s+-\s+1\s+-\s+-$", list.StdoutLines[1]);
        Assert.Matches(@"^orders\s+registration\s+ok\s+2\s+1\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$", list.StdoutLines[2]);

        var unknown = await CliHarness.RunRawAsync(["pools", "show", "nope"], environment);
        Assert.Equal(ExitCodes.InvalidInput, unknown.ExitCode);
        var wrongKey = await CliHarness.RunRawAsync(["pools", "list", "--gateway", gateway.Address.ToString(), "--admin-key", "wrong"]);
        Assert.Equal(ExitCodes.StorageFailure, wrongKey.ExitCode);
        Assert.Contains("401", wrongKey.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_a_gateway_or_a_key_the_command_line_is_wrong()
    {
        Assert.Equal(ExitCodes.Usage, (await CliHarness.RunRawAsync(["pools", "list"])).ExitCode);
        Assert.Equal(ExitCodes.Usage, (await CliHarness.RunRawAsync(["pools", "list", "--gateway", "http://127.0.0.1:9"])).ExitCode);
    }

    public void Dispose() => _cli.Dispose();
}
