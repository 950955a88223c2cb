using System.Diagnostics;
using System.Reflection;
using FuncGateway.Testing;

namespace FuncGateway.Infra.Tests;

/// <summary>What infra/README.md tells an operator to run, checked where it can be without Azure.</summary>
public sealed class DeploymentGuideTests
{
    [Fact]
    public void The_route_file_the_guide_imports_is_a_valid_registry()
    {
        var (exitCode, output) = RunFgw("validate", RepositoryRoot.Combine("infra/sample-routes.json"));

        Assert.True(exitCode == 0, $"fgw validate exited {exitCode}:{Environment.NewLine}{output}");
    }

    [Theory]
    [InlineData("az deployment group create -g <rg> --template-file infra/main.bicep --parameters infra/main.bicepparam")]
    [InlineData("fgw.dll import infra/sample-routes.json --table-service-uri")]
    [InlineData("/_gateway/healthz")]
    public void The_guide_gives_the_command(string command)
    {
        Assert.Contains(command, File.ReadAllText(RepositoryRoot.Combine("infra/README.md")), StringComparison.Ordinal);
    }

    [Fact]
    public void The_readme_links_the_guide()
    {
        Assert.Contains("(infra/README.md)", File.ReadAllText(RepositoryRoot.Combine("README.md")), StringComparison.Ordinal);
    }

    private static (int ExitCode, string Output) RunFgw(params string[] arguments)
    {
        // The CLI built with the same configuration as this assembly (the project reference builds it first).
        var configuration = typeof(DeploymentGuideTests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        var fgw = RepositoryRoot.Combine($"functions/FuncGateway.Cli/bin/{configuration}/net10.0/fgw.dll");
        Assert.True(File.Exists(fgw), $"{fgw} is missing: build the solution ('dotnet build FuncGateway.sln -c {configuration}') first.");

        var startInfo = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        startInfo.ArgumentList.Add(fgw);
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        using var process = Process.Start(startInfo)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(1)), "fgw did not finish within a minute");
        process.WaitForExit();
        return (process.ExitCode, stdout.Result + stderr.Result);
    }
}
