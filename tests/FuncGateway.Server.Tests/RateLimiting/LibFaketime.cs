using System.Diagnostics;
using System.Runtime.InteropServices;

namespace FuncGateway.Server.Tests.RateLimiting;

/// <summary>
/// libfaketime (Debian package <c>faketime</c>, which <c>scripts/test.sh</c> installs): preloaded into a process, it
/// moves that process's wall clock (<c>FAKETIME="+30s"</c>); .NET reads time through it. The monotonic clock is left
/// alone (<c>DONT_FAKE_MONOTONIC=1</c>), as on a real machine whose wall clock is wrong.
/// </summary>
internal static class LibFaketime
{
    private const string Library = "libfaketime.so.1";

    private static readonly Lazy<string?> Located = new(Locate);

    /// <summary>The library's path; null when it is not installed.</summary>
    public static string? Path => Located.Value;

    /// <summary>The environment that makes a process's wall clock run <paramref name="offset"/> ahead (or behind).</summary>
    public static Dictionary<string, string> Environment(string offset) => new()
    {
        ["LD_PRELOAD"] = Path ?? throw new InvalidOperationException("libfaketime is not installed."),
        ["FAKETIME"] = offset,
        ["DONT_FAKE_MONOTONIC"] = "1",
    };

    private static string? Locate()
    {
        if (System.Environment.GetEnvironmentVariable("FUNCGATEWAY_LIBFAKETIME") is { Length: > 0 } configured && File.Exists(configured))
        {
            return configured;
        }

        var triplet = RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.X64 => "x86_64-linux-gnu",
            Architecture.Arm64 => "aarch64-linux-gnu",
            var other => other.ToString().ToLowerInvariant() + "-linux-gnu",
        };
        foreach (var candidate in new[] { $"/usr/lib/{triplet}/faketime/{Library}", $"/usr/lib/faketime/{Library}", $"/usr/local/lib/faketime/{Library}" })
        {
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        // Wherever the package put it.
        try
        {
            using var dpkg = Process.Start(new ProcessStartInfo("dpkg", "-L libfaketime") { RedirectStandardOutput = true, RedirectStandardError = true });
            if (dpkg is null)
            {
                return null;
            }

            var files = dpkg.StandardOutput.ReadToEnd();
            dpkg.WaitForExit();
            return files.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                .FirstOrDefault(f => f.EndsWith("/" + Library, StringComparison.Ordinal) && File.Exists(f));
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // No dpkg: not a Debian system.
            return null;
        }
    }
}
