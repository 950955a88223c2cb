using System.Reflection;
using System.Text.Json;

namespace FuncGateway.Functions.Tests;

/// <summary>Finds the files the Functions SDK writes next to the built app (functions.metadata, host.json).</summary>
internal static class FunctionsBuildOutput
{
    public static JsonDocument ReadJson(string fileName) => JsonDocument.Parse(File.ReadAllText(Find(fileName)));

    private static string Find(string fileName)
    {
        // The Functions project's copy-to-output items flow through the ProjectReference into this test's output,
        // so the copy here comes from the same build as the test assembly.
        var inTestOutput = Path.Combine(AppContext.BaseDirectory, fileName);
        if (File.Exists(inTestOutput))
        {
            return inTestOutput;
        }

        // Otherwise look in the Functions project's own output, for the configuration this assembly was built with.
        var configuration = typeof(FunctionsBuildOutput).Assembly
            .GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        var inProjectOutput = Path.Combine(
            RepositoryRoot(), "functions", "FuncGateway.Functions", "bin", configuration, "net10.0", fileName);
        if (File.Exists(inProjectOutput))
        {
            return inProjectOutput;
        }

        throw new FileNotFoundException(
            $"'{fileName}' of the Functions app was not found in '{inTestOutput}' nor in '{inProjectOutput}'. " +
            $"Build the solution ('dotnet build FuncGateway.sln -c {configuration}') before running these tests: " +
            "the Azure Functions worker SDK writes it during the Functions project's build.",
            fileName);
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "FuncGateway.sln")))
            {
                return directory.FullName;
            }
        }

        throw new DirectoryNotFoundException($"No FuncGateway.sln above '{AppContext.BaseDirectory}'.");
    }
}
