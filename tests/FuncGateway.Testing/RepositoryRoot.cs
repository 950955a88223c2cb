namespace FuncGateway.Testing;

/// <summary>Finds the repository checkout the tests run from (the folder holding <c>FuncGateway.sln</c>).</summary>
public static class RepositoryRoot
{
    public const string SolutionFileName = "FuncGateway.sln";

    private static readonly Lazy<string> Root = new(Find);

    /// <summary>The absolute path of the repository root.</summary>
    /// <exception cref="InvalidOperationException">No folder above the test binaries holds the solution file.</exception>
    public static string Path => Root.Value;

    /// <summary>Combines <paramref name="relativePath"/> (with forward slashes) with the repository root.</summary>
    public static string Combine(string relativePath)
    {
        ArgumentException.ThrowIfNullOrEmpty(relativePath);
        return System.IO.Path.GetFullPath(System.IO.Path.Combine(Path, relativePath));
    }

    private static string Find()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(directory.FullName, SolutionFileName)))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException(
            $"Could not find {SolutionFileName} in any folder above {AppContext.BaseDirectory}; run the tests from a repository checkout.");
    }
}
