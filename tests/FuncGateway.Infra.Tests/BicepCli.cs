using System.Diagnostics;
using System.Reflection;
using System.Text.RegularExpressions;
using FuncGateway.Testing;

namespace FuncGateway.Infra.Tests;

/// <summary>
/// Runs the Bicep CLI from the NuGet package Azure.Bicep.CommandLine.linux-x64, which this project restores without
/// referencing it. The build records where restore put it; at run time the NuGet packages folder of this machine
/// (NUGET_PACKAGES, else ~/.nuget/packages) is tried too, in case the tests run where they were not built.
/// </summary>
internal static partial class BicepCli
{
    private const string PackageId = "azure.bicep.commandline.linux-x64";

    /// <summary>Environment variables removed before running the CLI, so nothing from the caller leaks into a build.</summary>
    private static readonly string[] ScrubbedVariables =
    [
        "FUNCGATEWAY_ADMIN_KEY", "FUNCGATEWAY_RATE_LIMIT_KEY_HASH_SECRET", "FUNCGATEWAY_SIGNING_KEY",
        "FUNCGATEWAY_ENTRA_TENANT_ID", "FUNCGATEWAY_ENTRA_AUDIENCE", "FUNCGATEWAY_CACHE_REDIS_CONNECTION_STRING",
        "FUNCGATEWAY_OTLP_ENDPOINT", "FUNCGATEWAY_OTLP_PROTOCOL", "FUNCGATEWAY_OTLP_HEADERS",
    ];

    private static readonly Lazy<string> Executable = new(Locate);

    /// <summary>The path of the <c>bicep</c> executable.</summary>
    public static string Path => Executable.Value;

    /// <summary>Runs <c>bicep</c> with <paramref name="arguments"/> in the repository root.</summary>
    public static BicepRun Run(params string[] arguments) => RunIn(RepositoryRoot.Path, arguments);

    /// <summary>Runs <c>bicep</c> with <paramref name="arguments"/> in <paramref name="workingDirectory"/>.</summary>
    public static BicepRun RunIn(string workingDirectory, params string[] arguments) =>
        RunIn(workingDirectory, new Dictionary<string, string>(), arguments);

    /// <summary>
    /// Runs <c>bicep</c> in <paramref name="workingDirectory"/> with <paramref name="environment"/> set (after the
    /// deployer's own variables are removed), as a deployer who exported them would.
    /// </summary>
    public static BicepRun RunIn(string workingDirectory, IReadOnlyDictionary<string, string> environment, params string[] arguments)
    {
        var startInfo = new ProcessStartInfo(Path)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        foreach (var variable in ScrubbedVariables)
        {
            startInfo.Environment.Remove(variable);
        }

        foreach (var (name, value) in environment)
        {
            startInfo.Environment[name] = value;
        }

        using var process = Process.Start(startInfo) ?? throw new InvalidOperationException($"Could not start '{Path}'.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(3)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"bicep {string.Join(' ', arguments)} did not finish within 3 minutes.");
        }

        process.WaitForExit();
        return new BicepRun(string.Join(' ', arguments), process.ExitCode, stdout.Result, stderr.Result);
    }

    private static string Locate()
    {
        // "<packages>/azure.bicep.commandline.linux-x64/<version>/tools/bicep" as restore saw it when this was built.
        var built = typeof(BicepCli).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == "BicepCliPath").Value ?? "";
        var candidates = new List<string>();
        var match = VersionInPath().Match(built);
        if (match.Success)
        {
            candidates.Add(built);

            // The same version in this machine's packages folder, if the tests run elsewhere than they were built.
            var root = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } packages
                ? packages
                : System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
            candidates.Add(System.IO.Path.Combine(root, PackageId, match.Groups["version"].Value, "tools", "bicep"));
        }

        var found = candidates.FirstOrDefault(File.Exists) ?? throw new FileNotFoundException(
            $"The Bicep CLI was not found (recorded at build: '{built}'; looked at: {string.Join(", ", candidates)}). " +
            "Run 'dotnet restore FuncGateway.sln': the test project restores the NuGet package " +
            "Azure.Bicep.CommandLine.linux-x64, which holds it (Linux x64 only).");
        EnsureExecutable(found);
        return found;
    }

    // NuGet extracts package files without the execute bit on some machines. The package is Linux-only anyway.
    private static void EnsureExecutable(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("The infra tests run the Linux x64 Bicep CLI; run them on Linux.");
        }

        const UnixFileMode execute = UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
        var mode = File.GetUnixFileMode(path);
        if ((mode & UnixFileMode.UserExecute) == 0)
        {
            File.SetUnixFileMode(path, mode | execute);
        }
    }

    [GeneratedRegex($@"{PackageId}/(?<version>[^/]+)/tools/bicep$", RegexOptions.IgnoreCase)]
    private static partial Regex VersionInPath();
}

/// <summary>One run of the Bicep CLI.</summary>
internal sealed partial record BicepRun(string Command, int ExitCode, string Output, string Errors)
{
    /// <summary>
    /// Every diagnostic the CLI printed: <c>path(line,col) : Error|Warning|Info CODE: message</c>. Warnings count: an
    /// unknown property (BCP037) or an API version without types (BCP081) is only a warning and exits 0.
    /// </summary>
    public IReadOnlyList<string> Diagnostics { get; } =
        (Output + "\n" + Errors).Split('\n').Select(l => l.Trim()).Where(l => DiagnosticLine().IsMatch(l)).ToList();

    /// <summary>Exit code 0, no diagnostic, nothing on stderr.</summary>
    public bool IsClean => ExitCode == 0 && Diagnostics.Count == 0 && string.IsNullOrWhiteSpace(Errors);

    /// <summary>A description of the run for assertion messages.</summary>
    public string Describe() =>
        $"bicep {Command} exited {ExitCode}.{Environment.NewLine}{Errors.Trim()}{Environment.NewLine}{string.Join(Environment.NewLine, Diagnostics)}";

    [GeneratedRegex(@"\) : (Error|Warning|Info) [A-Za-z0-9-]+: ")]
    private static partial Regex DiagnosticLine();
}
