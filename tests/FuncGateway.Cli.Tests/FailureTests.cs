using FuncGateway.Testing;

namespace FuncGateway.Cli.Tests;

/// <summary>Exit codes 2 (usage) and 3 (storage) that scripts depend on.</summary>
public sealed class FailureTests
{
    [Fact]
    public async Task Storage_that_is_down_gives_exit_code_3_with_a_clear_message_and_no_secret()
    {
        await using var azurite = await AzuriteInstance.StartAsync();
        using var cli = new CliHarness(azurite.ConnectionString);
        var file = cli.WriteFile(Registries.Sample);
        await azurite.StopAsync();

        var list = await cli.RunAsync("routes", "list");
        var import = await cli.RunAsync("import", file);

        foreach (var result in new[] { list, import })
        {
            Assert.True(result.ExitCode == 3, result.ToString());
            Assert.StartsWith($"error: Could not read table '{cli.Prefix}Upstreams': storage unreachable (", result.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain(AzuriteInstance.AccountKey, result.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain(AzuriteInstance.AccountKey, result.Stdout, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("frobnicate")]
    [InlineData("import")]
    [InlineData("import a.json b.json")]
    [InlineData("routes export --unknown")]
    [InlineData("routes")]
    [InlineData("validate file.json --prune")]
    public async Task A_usage_error_gives_exit_code_2(string commandLine)
    {
        var result = await CliHarness.RunRawAsync(commandLine.Split(' ', StringSplitOptions.RemoveEmptyEntries));

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.StartsWith("error: ", result.Stderr, StringComparison.Ordinal);
        Assert.Equal("", result.Stdout);
    }

    [Fact]
    public async Task A_file_that_cannot_be_read_is_invalid_input()
    {
        var result = await CliHarness.RunRawAsync(["validate", Path.Combine(Path.GetTempPath(), Guid.NewGuid().ToString("N"), "missing.json")]);

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.StartsWith("error: Cannot read '", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task No_storage_configured_is_a_usage_error()
    {
        var result = await CliHarness.RunRawAsync(["routes", "list"]);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("No storage configured", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_invalid_table_prefix_is_a_usage_error()
    {
        var result = await CliHarness.RunRawAsync(["routes", "list", "--connection-string", "UseDevelopmentStorage=true", "--table-prefix", "no-dashes"]);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("TablePrefix must start with a letter", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_malformed_connection_string_is_a_usage_error_that_does_not_echo_it()
    {
        const string secret = "AccountKey=c2VjcmV0;NotAConnectionString";

        var result = await CliHarness.RunRawAsync(["routes", "list", "--connection-string", secret]);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.DoesNotContain("c2VjcmV0", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Help_exits_0_on_stdout()
    {
        var result = await CliHarness.RunRawAsync(["import", "--help"]);

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("--prune", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("--connection-string", result.Stdout, StringComparison.Ordinal);
    }
}
