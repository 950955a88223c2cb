using FuncGateway.Testing;

namespace FuncGateway.Infra.Tests;

/// <summary>
/// Every Bicep file under infra/ compiles and lints with no diagnostic at all: not an error, not a warning (an
/// unknown property, BCP037, is only a warning and would otherwise deploy a template Azure ignores or rejects).
/// </summary>
public sealed class BicepBuildTests
{
    public static TheoryData<string> SourceFiles => new(InfraBuild.SourceFiles);

    [Fact]
    public void Infra_holds_the_template_its_modules_and_the_sample_parameters()
    {
        Assert.Contains("main.bicep", InfraBuild.SourceFiles);
        Assert.Contains("main.bicepparam", InfraBuild.SourceFiles);
        Assert.Contains(InfraBuild.SourceFiles, f => f.StartsWith("modules/", StringComparison.Ordinal));
    }

    [Fact]
    public void Every_file_lints_without_a_diagnostic()
    {
        var run = InfraBuild.Current.Lint;
        Assert.True(run.IsClean, run.Describe());
    }

    [Fact]
    public void Every_template_builds_without_a_diagnostic()
    {
        var run = InfraBuild.Current.BuildTemplates;
        Assert.True(run.IsClean, run.Describe());
    }

    [Fact]
    public void Every_parameters_file_builds_without_a_diagnostic()
    {
        var run = InfraBuild.Current.BuildParameters;
        Assert.True(run.IsClean, run.Describe());
    }

    [Theory]
    [MemberData(nameof(SourceFiles))]
    public void The_file_compiles_to_json(string sourceFile)
    {
        var output = InfraBuild.Current.OutputOf(sourceFile);

        Assert.True(File.Exists(output), $"infra/{sourceFile} did not compile to {output}.");
        Assert.StartsWith("{", File.ReadAllText(output).TrimStart(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_warning_fails_the_check_although_the_cli_exits_0()
    {
        // The regression this guards: relying on the exit code alone lets an unknown property through.
        using var folder = new ScratchFolder();
        var file = folder.Write("unknown-property.bicep", """
            param location string = resourceGroup().location
            resource account 'Microsoft.Storage/storageAccounts@2025-01-01' = {
              name: 'funcgatewayscratch'
              location: location
              kind: 'StorageV2'
              sku: {
                name: 'Standard_LRS'
              }
              properties: {
                notAProperty: false
              }
            }
            """);

        var run = BicepCli.RunIn(folder.Path, "build", file, "--stdout", "--config", BicepConfig);

        Assert.Equal(0, run.ExitCode);
        Assert.Contains(run.Diagnostics, d => d.Contains("Warning BCP037", StringComparison.Ordinal) && d.Contains("notAProperty", StringComparison.Ordinal));
        Assert.False(run.IsClean);
    }

    [Fact]
    public void The_bicep_config_raises_linter_rules_to_errors()
    {
        using var folder = new ScratchFolder();
        var file = folder.Write("unused-parameter.bicep", "param unused string\n");

        var withDefaults = BicepCli.RunIn(folder.Path, "build", file, "--stdout");
        var withOurs = BicepCli.RunIn(folder.Path, "build", file, "--stdout", "--config", BicepConfig);

        Assert.Equal(0, withDefaults.ExitCode);
        Assert.NotEqual(0, withOurs.ExitCode);
        Assert.Contains(withOurs.Diagnostics, d => d.Contains("Error no-unused-params", StringComparison.Ordinal));
    }

    private static string BicepConfig => RepositoryRoot.Combine($"{InfraBuild.InfraFolder}/bicepconfig.json");

    private sealed class ScratchFolder : IDisposable
    {
        public ScratchFolder()
        {
            Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "funcgateway-bicep-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(Path);
        }

        public string Path { get; }

        public string Write(string name, string content)
        {
            var file = System.IO.Path.Combine(Path, name);
            File.WriteAllText(file, content);
            return file;
        }

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
