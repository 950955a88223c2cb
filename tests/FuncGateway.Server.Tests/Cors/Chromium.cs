namespace FuncGateway.Server.Tests.Cors;

/// <summary>
/// Debian's <c>chromium</c>, which Playwright drives headless (Playwright's own browser download cannot be reached
/// here). <c>scripts/test.sh</c> installs it when it runs as root. Where the test could install it (root, or CI) and it is
/// still missing, the test fails; elsewhere it is skipped with the reason.
/// </summary>
internal static class Chromium
{
    /// <summary>The browser to drive: <c>FUNCGATEWAY_CHROMIUM</c>, else <c>/usr/bin/chromium</c>; null when absent.</summary>
    public static string? Path { get; } = Find();

    public const string Missing =
        "chromium is not installed (/usr/bin/chromium, or set FUNCGATEWAY_CHROMIUM): install the Debian package 'chromium' " +
        "(scripts/test.sh does so when it runs as root).";

    /// <summary>True where the browser must be there: in CI and as root, scripts/test.sh has installed it.</summary>
    public static bool Required =>
        string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase)
        || (OperatingSystem.IsLinux() && Environment.UserName == "root");

    private static string? Find()
    {
        var configured = Environment.GetEnvironmentVariable("FUNCGATEWAY_CHROMIUM");
        var path = string.IsNullOrEmpty(configured) ? "/usr/bin/chromium" : configured;
        return File.Exists(path) ? path : null;
    }
}
