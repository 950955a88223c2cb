using System.Text.Json;
using FuncGateway.Testing;

namespace FuncGateway.Infra.Tests;

/// <summary>What a deployment hands back, and what the sample parameters file holds: nothing secret in either.</summary>
public sealed class OutputsAndParametersTests
{
    private static readonly ArmTemplate Main = InfraBuild.Current.MainTemplate;

    [Theory]
    [InlineData("gatewayUrl", "'functionApp'", ".outputs.defaultHostName.value")]
    [InlineData("tableEndpoint", "'storage'", ".outputs.tableEndpoint.value")]
    [InlineData("principalId", "'functionApp'", ".outputs.principalId.value")]
    public void The_deployment_outputs(string output, string module, string value)
    {
        var expression = Main.Outputs.StringAt(output, "value")!;

        Assert.Equal("string", Main.Outputs.StringAt(output, "type"));
        Assert.Contains(module, expression, StringComparison.Ordinal);
        Assert.Contains(value, expression, StringComparison.Ordinal);
    }

    [Fact]
    public void The_gateway_url_is_https()
    {
        Assert.StartsWith("[format('https://{0}'", Main.Outputs.StringAt("gatewayUrl", "value"), StringComparison.Ordinal);
    }

    [Fact]
    public void No_output_anywhere_carries_a_secret()
    {
        foreach (var template in new[] { Main }.Concat(Main.OfType(ArmTemplate.DeploymentType).Select(d => Main.Module(d.StringAt("name")!))))
        {
            foreach (var output in template.Outputs.EnumerateObject())
            {
                Assert.NotEqual("securestring", output.Value.StringAt("type"));
                var value = output.Value.StringAt("value") ?? "";
                Assert.DoesNotContain("adminKey')", value, StringComparison.Ordinal);
                Assert.DoesNotContain("rateLimitKeyHashSecret')", value, StringComparison.Ordinal);
                Assert.DoesNotContain("otlpHeaders')", value, StringComparison.Ordinal);
                Assert.DoesNotContain("gatewaySecrets')", value, StringComparison.Ordinal);
                Assert.DoesNotContain("secretValues')", value, StringComparison.Ordinal);
                Assert.DoesNotContain("list", value, StringComparison.OrdinalIgnoreCase);
            }
        }
    }

    [Fact]
    public void The_sample_parameters_build_without_any_secret()
    {
        // Built with FUNCGATEWAY_ADMIN_KEY removed from the environment: the file itself holds no key.
        var parameters = InfraBuild.Current.SampleParameters;

        Assert.Equal("", parameters.StringAt("adminKey", "value"));
        Assert.Equal("", parameters.StringAt("rateLimitKeyHashSecret", "value"));
        Assert.Equal("", parameters.StringAt("otlpHeaders", "value"));
        Assert.True(parameters.At("deployKeyVault", "value").GetBoolean());
        Assert.All(parameters.At("gatewaySecrets", "value").EnumerateObject(), secret => Assert.Equal("", secret.Value.GetString()));
        Assert.Contains("readEnvironmentVariable('FUNCGATEWAY_SIGNING_KEY'",
            File.ReadAllText(RepositoryRoot.Combine("infra/main.bicepparam")), StringComparison.Ordinal);
        Assert.Contains("readEnvironmentVariable('FUNCGATEWAY_ADMIN_KEY'",
            File.ReadAllText(RepositoryRoot.Combine("infra/main.bicepparam")), StringComparison.Ordinal);
        Assert.Contains("readEnvironmentVariable('FUNCGATEWAY_RATE_LIMIT_KEY_HASH_SECRET'",
            File.ReadAllText(RepositoryRoot.Combine("infra/main.bicepparam")), StringComparison.Ordinal);
        Assert.Contains("readEnvironmentVariable('FUNCGATEWAY_OTLP_HEADERS'",
            File.ReadAllText(RepositoryRoot.Combine("infra/main.bicepparam")), StringComparison.Ordinal);
    }

    [Fact]
    public void The_sample_environment_is_small()
    {
        var parameters = InfraBuild.Current.SampleParameters;

        Assert.Equal(0, parameters.At("alwaysReadyInstanceCount", "value").GetInt32());
        Assert.True(parameters.At("maximumInstanceCount", "value").GetInt32() <= 100);
        Assert.Equal(JsonValueKind.String, parameters.At("baseName", "value").ValueKind);
    }
}
