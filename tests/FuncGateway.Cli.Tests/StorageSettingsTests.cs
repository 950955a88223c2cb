using FuncGateway.Testing;

namespace FuncGateway.Cli.Tests;

/// <summary>Storage settings come from the same environment variables as the gateway's, with the same precedence.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class StorageSettingsTests(AzuriteFixture fixture) : IDisposable
{
    private readonly CliHarness _cli = new(fixture);

    [Fact]
    public async Task The_gateway_environment_variables_are_the_defaults()
    {
        var environment = new Dictionary<string, string?>
        {
            ["FuncGateway__Storage__ConnectionString"] = fixture.ConnectionString,
            ["FuncGateway__Storage__TablePrefix"] = _cli.Prefix,
        };

        var result = await CliHarness.RunRawAsync(["import", _cli.WriteFile(Registries.Sample)], environment);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(3, (await CliHarness.ReadAsync(_cli.RoutesTable)).Count);
    }

    [Fact]
    public async Task AzureWebJobsStorage_is_the_fallback_connection_string()
    {
        var environment = new Dictionary<string, string?>
        {
            ["AzureWebJobsStorage"] = fixture.ConnectionString,
            ["FuncGateway__Storage__TablePrefix"] = _cli.Prefix,
        };

        var result = await CliHarness.RunRawAsync(["import", _cli.WriteFile(Registries.Sample)], environment);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(2, (await CliHarness.ReadAsync(_cli.UpstreamsTable)).Count);
    }

    [Fact]
    public async Task Command_line_options_win_over_the_environment()
    {
        var environment = new Dictionary<string, string?>
        {
            ["FuncGateway__Storage__ConnectionString"] = "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=AAAA;TableEndpoint=http://127.0.0.1:1/devstoreaccount1;",
            ["FuncGateway__Storage__TablePrefix"] = "Elsewhere",
        };

        var result = await CliHarness.RunRawAsync(
            ["import", _cli.WriteFile(Registries.Sample), "--connection-string", fixture.ConnectionString, "--table-prefix", _cli.Prefix], environment);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(3, (await CliHarness.ReadAsync(_cli.RoutesTable)).Count);
    }

    public void Dispose() => _cli.Dispose();
}
