namespace FuncGateway.Routing;

/// <summary>
/// The path prefixes the Azure Functions host keeps for itself even with an empty route prefix: a request under them
/// never reaches a function, so a route there can never be served by the gateway running as a Functions app.
/// </summary>
internal static class FunctionsReservedPaths
{
    /// <summary>The reserved prefixes, each a whole number of segments.</summary>
    public static IReadOnlyList<string> Prefixes { get; } = ["/admin", "/runtime/webhooks"];

    /// <summary>
    /// The reserved prefix every request the path template matches lies under (its leading literal segments start with
    /// one, compared case-insensitively), or null. A template that only may match there (<c>/{**rest}</c>) is not flagged.
    /// </summary>
    public static string? PrefixOf(string path)
    {
        if (string.IsNullOrEmpty(path))
        {
            return null;
        }

        var normalized = path[0] == '/' ? path : "/" + path;
        foreach (var prefix in Prefixes)
        {
            if (normalized.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)
                && (normalized.Length == prefix.Length || normalized[prefix.Length] == '/'))
            {
                return prefix;
            }
        }

        return null;
    }

    /// <summary>The reason given for such a route, in rejections, warnings and <c>fgw</c>.</summary>
    public static string Reason(string path, string prefix) =>
        $"Path '{Model.PrintableText.Of(path)}' is under {prefix}/, which the Azure Functions host keeps for itself: requests there never reach the gateway when it runs as a Functions app.";
}

/// <summary>What the snapshot does with a route under <see cref="FunctionsReservedPaths"/>.</summary>
internal enum ReservedPathHandling
{
    /// <summary>Serve it and log a warning (a Kestrel server receives such requests).</summary>
    Warn,

    /// <summary>Reject the row with the reason (the Functions app, whose host never delivers them).</summary>
    Reject,
}
