using System.Diagnostics;
using System.Text.RegularExpressions;
using FuncGateway.Testing;

namespace FuncGateway.Infra.Tests;

/// <summary>
/// The shell blocks of README.md, infra/README.md and the reference pages in docs/ paste into bash: each one parses, no placeholder reads as a
/// redirection (<c>-g &lt;rg&gt;</c>), and every setting they (or the text) name can be exported. (That they run in
/// order was checked by hand against Azurite with the Azure CLI; CI has no Azure CLI.)
/// </summary>
public sealed partial class ReadmeShellTests
{
    /// <summary>README.md, infra/README.md, and every page of docs/ with a bash block (the README's reference sections live there).</summary>
    public static TheoryData<string> Documents => new(DocumentPaths);

    private static IReadOnlyList<string> DocumentPaths =>
    [
        "README.md",
        "infra/README.md",
        .. Directory.EnumerateFiles(RepositoryRoot.Combine("docs"), "*.md")
            .Where(path => File.ReadAllText(path).Contains("```bash", StringComparison.Ordinal))
            .Select(path => "docs/" + Path.GetFileName(path))
            .Order(StringComparer.Ordinal),
    ];

    [Theory]
    [MemberData(nameof(Documents))]
    public void Every_bash_block_parses(string document)
    {
        var blocks = BashBlocks(document);
        Assert.NotEmpty(blocks);
        foreach (var block in blocks)
        {
            var startInfo = new ProcessStartInfo("bash", "-n") { RedirectStandardInput = true, RedirectStandardError = true };
            using var bash = Process.Start(startInfo)!;
            bash.StandardInput.Write(block);
            bash.StandardInput.Close();
            var errors = bash.StandardError.ReadToEnd();
            Assert.True(bash.WaitForExit(TimeSpan.FromSeconds(30)), "bash -n did not finish");
            Assert.True(bash.ExitCode == 0, $"A bash block of {document} does not parse:{Environment.NewLine}{errors}{Environment.NewLine}{block}");
        }
    }

    [Theory]
    [MemberData(nameof(Documents))]
    public void No_bash_block_holds_a_placeholder_bash_would_read_as_a_redirection(string document)
    {
        foreach (var block in BashBlocks(document))
        {
            var code = string.Join('\n', block.Split('\n').Select(line => line.Split(" #")[0]).Where(line => !line.TrimStart().StartsWith('#')));
            Assert.False(Placeholder().IsMatch(code), $"A bash block of {document} has a <placeholder>:{Environment.NewLine}{block}");
        }
    }

    [Fact]
    public void Every_setting_name_the_text_gives_can_be_exported()
    {
        // Across every document (a reference page may name none): each app setting name the text gives.
        var names = DocumentPaths
            .SelectMany(document => SettingName().Matches(File.ReadAllText(RepositoryRoot.Combine(document))).Select(m => (document, name: m.Value)))
            .Distinct()
            .ToList();

        Assert.Contains(names, n => n.document == "README.md");
        Assert.All(names, n => Assert.True(ExportableName().IsMatch(n.name), $"{n.document}: '{n.name}' cannot be exported"));
    }

    private static List<string> BashBlocks(string document) =>
        BashBlock().Matches(File.ReadAllText(RepositoryRoot.Combine(document))).Select(m => m.Groups["code"].Value).ToList();

    [GeneratedRegex("```bash\\n(?<code>.*?)```", RegexOptions.Singleline)]
    private static partial Regex BashBlock();

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex ExportableName();

    [GeneratedRegex("<[A-Za-z][A-Za-z0-9_-]*>")]
    private static partial Regex Placeholder();

    // A FuncGateway app setting name as written in the text, up to the first character no key holds.
    [GeneratedRegex(@"FuncGateway__[A-Za-z0-9_.\-]*[A-Za-z0-9_]")]
    private static partial Regex SettingName();
}
