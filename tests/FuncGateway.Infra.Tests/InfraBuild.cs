using System.Text.Json;
using FuncGateway.Testing;

namespace FuncGateway.Infra.Tests;

/// <summary>
/// Lints and compiles everything under <c>infra/</c> once per test run: every <c>.bicep</c> file to an ARM template,
/// every <c>.bicepparam</c> file to a parameters file. Tests read the results.
/// </summary>
internal sealed class InfraBuild
{
    public const string InfraFolder = "infra";

    private static readonly Lazy<InfraBuild> Instance = new(() => new InfraBuild());

    private readonly string _outputRoot;

    private InfraBuild()
    {
        _outputRoot = Path.Combine(Path.GetTempPath(), "funcgateway-infra-" + Guid.NewGuid().ToString("N"));
        var templates = Path.Combine(_outputRoot, "templates");
        var parameters = Path.Combine(_outputRoot, "parameters");

        // Globs are relative to the working directory, the repository root; *.bicep* takes .bicepparam files too.
        Lint = BicepCli.Run("lint", "--pattern", $"{InfraFolder}/**/*.bicep*");
        BuildTemplates = BicepCli.Run("build", "--pattern", $"{InfraFolder}/**/*.bicep", "--outdir", templates);

        // A parameters file compiles to <name>.json like its template, hence a folder of its own.
        BuildParameters = BicepCli.Run("build-params", "--pattern", $"{InfraFolder}/**/*.bicepparam", "--outdir", parameters);
        TemplatesFolder = templates;
        ParametersFolder = parameters;
        AppDomain.CurrentDomain.ProcessExit += (_, _) => DeleteOutput();
    }

    /// <summary>The one build of this test run.</summary>
    public static InfraBuild Current => Instance.Value;

    /// <summary>Every <c>.bicep</c> and <c>.bicepparam</c> file under infra/, relative to it with forward slashes.</summary>
    public static IReadOnlyList<string> SourceFiles { get; } = FindSourceFiles();

    public BicepRun Lint { get; }

    public BicepRun BuildTemplates { get; }

    public BicepRun BuildParameters { get; }

    public string TemplatesFolder { get; }

    public string ParametersFolder { get; }

    /// <summary>The compiled template of <c>infra/main.bicep</c>, modules included.</summary>
    public ArmTemplate MainTemplate => new(ReadJson(Path.Combine(TemplatesFolder, "main.json")));

    /// <summary>The compiled parameters of <c>infra/main.bicepparam</c> (built without FUNCGATEWAY_ADMIN_KEY set).</summary>
    public JsonElement SampleParameters => ReadJson(Path.Combine(ParametersFolder, "main.json")).GetProperty("parameters");

    /// <summary>Where the build put the output of <paramref name="sourceFile"/> (relative to infra/).</summary>
    public string OutputOf(string sourceFile)
    {
        var folder = sourceFile.EndsWith(".bicepparam", StringComparison.Ordinal) ? ParametersFolder : TemplatesFolder;
        return Path.Combine(folder, Path.ChangeExtension(sourceFile, ".json"));
    }

    private static JsonElement ReadJson(string path)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        return document.RootElement.Clone();
    }

    private static List<string> FindSourceFiles()
    {
        var infra = RepositoryRoot.Combine(InfraFolder);
        return Directory.EnumerateFiles(infra, "*.bicep", SearchOption.AllDirectories)
            .Concat(Directory.EnumerateFiles(infra, "*.bicepparam", SearchOption.AllDirectories))
            .Select(f => Path.GetRelativePath(infra, f).Replace('\\', '/'))
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    private void DeleteOutput()
    {
        try
        {
            Directory.Delete(_outputRoot, recursive: true);
        }
        catch (IOException)
        {
            // A temp folder left behind is not worth failing a run for.
        }
    }
}
