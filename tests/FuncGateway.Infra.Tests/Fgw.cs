using System.Diagnostics;
using System.Reflection;
using FuncGateway.Testing;

namespace FuncGateway.Infra.Tests;

/// <summary>Runs the <c>fgw</c> CLI built with the same configuration as this assembly (the project reference builds it first).</summary>
internal static class Fgw
{
    public static (int ExitCode, string Output) Run(IReadOnlyDictionary<string, string>? environment, params string[] arguments)
    {
        var configuration = typeof(Fgw).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        var fgw = RepositoryRoot.Combine($"functions/FuncGateway.Cli/bin/{configuration}/net10.0/fgw.dll");
        Assert.True(File.Exists(fgw), $"{fgw} is missing: build the solution ('dotnet build FuncGateway.sln -c {configuration}') first.");

        var startInfo = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        startInfo.ArgumentList.Add(fgw);
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            startInfo.Environment[name] = value;
        }

        using var process = Process.Start(startInfo)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(1)), "fgw did not finish within a minute");
        process.WaitForExit();
        return (process.ExitCode, stdout.Result + stderr.Result);
    }
}
