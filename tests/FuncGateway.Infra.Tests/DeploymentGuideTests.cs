using FuncGateway.Testing;

namespace FuncGateway.Infra.Tests;

/// <summary>What infra/README.md tells an operator to run, checked where it can be without Azure.</summary>
public sealed class DeploymentGuideTests
{
    [Fact]
    public void The_route_file_the_guide_imports_is_a_valid_registry()
    {
        var (exitCode, output) = Fgw.Run(null, "validate", RepositoryRoot.Combine("infra/sample-routes.json"));

        Assert.True(exitCode == 0, $"fgw validate exited {exitCode}:{Environment.NewLine}{output}");
    }

    [Theory]
    [InlineData("az deployment group create -g \"$RG\" -n main --template-file infra/main.bicep --parameters infra/main.bicepparam")]
    [InlineData("fgw.dll import infra/sample-routes.json --table-service-uri")]
    [InlineData("/_gateway/healthz")]
    public void The_guide_gives_the_command(string command)
    {
        Assert.Contains(command, File.ReadAllText(RepositoryRoot.Combine("infra/README.md")), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("az deployment group create -g \"$RG\" -n main --template-file infra/main.bicep --parameters infra/main.bicepparam")]
    [InlineData("fgw.dll import infra/sample-routes.json --table-service-uri")]
    [InlineData("curl -i -H \"Authorization: Bearer $TOKEN\" \"$GW/httpbin/get\"")]
    public void The_readme_walks_from_the_deployment_to_a_protected_route(string command)
    {
        Assert.Contains(command, File.ReadAllText(RepositoryRoot.Combine("README.md")), StringComparison.Ordinal);
    }

    [Fact]
    public void The_readme_links_the_guide()
    {
        Assert.Contains("(infra/README.md)", File.ReadAllText(RepositoryRoot.Combine("README.md")), StringComparison.Ordinal);
    }
}
