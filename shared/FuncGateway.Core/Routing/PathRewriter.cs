using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace FuncGateway.Routing;

/// <summary>
/// Turns the request path into the upstream path: unchanged, with a literal prefix stripped, or rebuilt from an
/// upstream template filled with the route values. Built once per route.
/// </summary>
/// <remarks>
/// Paths are handled decoded, as <see cref="HttpRequest.Path"/> holds them; <see cref="PathString.ToUriComponent()"/>
/// escapes them on the way out, so a value holding a space or '?' stays inside its path segment.
/// </remarks>
internal sealed class PathRewriter
{
    private const string UpstreamPathLabel = "UpstreamPath";

    private readonly int _stripSegmentCount;

    // Null unless rewriting to an upstream template.
    private readonly UpstreamPart[]? _upstreamParts;

    // The upstream template ends in '/' ("/v2/items/"): the rebuilt path does too, as written (a directory index, a
    // framework that redirects "/items" to "/items/", a Proxies backendUri).
    private readonly bool _trailingSlash;

    private PathRewriter(int stripSegmentCount, UpstreamPart[]? upstreamParts, bool trailingSlash = false)
    {
        _stripSegmentCount = stripSegmentCount;
        _upstreamParts = upstreamParts;
        _trailingSlash = trailingSlash;
    }

    /// <summary>Forwards the request path unchanged.</summary>
    public static PathRewriter Identity { get; } = new(0, null);

    /// <param name="source">The route's path template.</param>
    /// <param name="upstreamPath">A template such as <c>/v2/orders/{id}</c> using only parameters of <paramref name="source"/>.</param>
    /// <param name="stripPrefix">Leading literal segments of <paramref name="source"/> to remove, such as <c>/api</c>.</param>
    /// <param name="rewriter">The rewriter, when the settings are valid.</param>
    /// <param name="error">One sentence saying what is wrong, when they are not.</param>
    public static bool TryCreate(
        RouteTemplate source,
        string? upstreamPath,
        string? stripPrefix,
        [NotNullWhen(true)] out PathRewriter? rewriter,
        [NotNullWhen(false)] out string? error)
    {
        ArgumentNullException.ThrowIfNull(source);
        var hasUpstreamPath = !string.IsNullOrWhiteSpace(upstreamPath);
        var hasStripPrefix = !string.IsNullOrWhiteSpace(stripPrefix);
        if (hasUpstreamPath && hasStripPrefix)
        {
            rewriter = null;
            error = "Set UpstreamPath or StripPrefix, not both.";
            return false;
        }

        if (hasUpstreamPath)
        {
            return TryCreateUpstream(source, upstreamPath!, out rewriter, out error);
        }

        if (hasStripPrefix)
        {
            return TryCreateStrip(source, stripPrefix!, out rewriter, out error);
        }

        rewriter = Identity;
        error = null;
        return true;
    }

    /// <param name="requestPath">The (decoded) request path the route matched.</param>
    /// <param name="values">The route values of the match.</param>
    public PathString Rewrite(PathString requestPath, RouteValueDictionary values)
    {
        if (_upstreamParts is not null)
        {
            ArgumentNullException.ThrowIfNull(values);
            return FillUpstream(_upstreamParts, values, _trailingSlash);
        }

        return _stripSegmentCount == 0 ? requestPath : Strip(requestPath, _stripSegmentCount);
    }

    private static PathString Strip(PathString requestPath, int segmentCount)
    {
        // The route matched, so the path starts with the prefix's segments; drop them and keep the rest as sent.
        var path = requestPath.Value ?? string.Empty;
        var position = 0;
        for (var i = 0; i < segmentCount; i++)
        {
            var next = position + 1 < path.Length ? path.IndexOf('/', position + 1) : -1;
            if (next < 0)
            {
                return new PathString("/");
            }

            position = next;
        }

        return new PathString(path[position..]);
    }

    private static PathString FillUpstream(UpstreamPart[] parts, RouteValueDictionary values, bool trailingSlash)
    {
        var builder = new DefaultInterpolatedStringHandler(0, 0, CultureInfo.InvariantCulture, stackalloc char[256]);
        var endsWithSlash = false;
        foreach (var part in parts)
        {
            if (part.Literal is not null)
            {
                builder.AppendLiteral("/");
                builder.AppendLiteral(part.Literal);
                endsWithSlash = false;
                continue;
            }

            var value = values.TryGetValue(part.ParameterName!, out var raw)
                ? raw as string ?? Convert.ToString(raw, CultureInfo.InvariantCulture)
                : null;

            // A missing optional value (or an empty catch-all) leaves its segment out.
            if (!string.IsNullOrEmpty(value))
            {
                builder.AppendLiteral("/");
                builder.AppendLiteral(value);
                endsWithSlash = value[^1] == '/';
            }
        }

        // Once: a catch-all value that already ends in '/' (the client's own trailing slash) keeps just that one.
        if (trailingSlash && !endsWithSlash)
        {
            builder.AppendLiteral("/");
        }

        var result = builder.ToStringAndClear();
        return new PathString(result.Length == 0 ? "/" : result);
    }

    private static bool TryCreateStrip(
        RouteTemplate source,
        string stripPrefix,
        [NotNullWhen(true)] out PathRewriter? rewriter,
        [NotNullWhen(false)] out string? error)
    {
        rewriter = null;
        if (stripPrefix[0] != '/')
        {
            error = $"StripPrefix '{stripPrefix}' must start with '/'.";
            return false;
        }

        if (stripPrefix.Contains('{', StringComparison.Ordinal))
        {
            error = $"StripPrefix '{stripPrefix}' must be literal; it cannot contain parameters.";
            return false;
        }

        var prefixSegments = stripPrefix.Split('/', StringSplitOptions.None)[1..];
        if (prefixSegments.Length > 0 && prefixSegments[^1].Length == 0)
        {
            prefixSegments = prefixSegments[..^1];
        }

        var matches = prefixSegments.Length <= source.LiteralPrefixSegmentCount;
        for (var i = 0; matches && i < prefixSegments.Length; i++)
        {
            matches = string.Equals(prefixSegments[i], source.Segments[i].Text, StringComparison.OrdinalIgnoreCase);
        }

        if (!matches)
        {
            error = source.LiteralPrefixSegmentCount == 0
                ? $"StripPrefix '{stripPrefix}' cannot apply: Path '{source.Text}' does not start with a literal segment."
                : $"StripPrefix '{stripPrefix}' does not match the leading literal segments of Path '{source.Text}'; "
                    + $"use one of {PrefixChoices(source)}.";
            return false;
        }

        rewriter = prefixSegments.Length == 0 ? Identity : new PathRewriter(prefixSegments.Length, null);
        error = null;
        return true;
    }

    private static string PrefixChoices(RouteTemplate source)
    {
        var choices = new List<string>(source.LiteralPrefixSegmentCount);
        var prefix = string.Empty;
        for (var i = 0; i < source.LiteralPrefixSegmentCount; i++)
        {
            prefix += "/" + source.Segments[i].Text;
            choices.Add($"'{prefix}'");
        }

        return string.Join(", ", choices);
    }

    private static bool TryCreateUpstream(
        RouteTemplate source,
        string upstreamPath,
        [NotNullWhen(true)] out PathRewriter? rewriter,
        [NotNullWhen(false)] out string? error)
    {
        rewriter = null;
        if (!RouteTemplate.TryParse(upstreamPath, UpstreamPathLabel, out var upstream, out error))
        {
            return false;
        }

        var parts = new UpstreamPart[upstream.Segments.Count];
        for (var i = 0; i < parts.Length; i++)
        {
            var segment = upstream.Segments[i];
            if (segment.Kind == RouteSegmentKind.Literal)
            {
                parts[i] = new UpstreamPart(segment.Text, null);
                continue;
            }

            var name = segment.Text;
            if (segment.Constraints.Count > 0)
            {
                error = $"UpstreamPath '{upstreamPath}': parameter '{name}' has a constraint; constraints belong on Path.";
                return false;
            }

            if (segment.Default is not null)
            {
                error = $"UpstreamPath '{upstreamPath}': parameter '{name}' has a default value; defaults belong on Path.";
                return false;
            }

            if (!Contains(source.ParameterNames, name))
            {
                error = $"UpstreamPath '{upstreamPath}': parameter '{name}' is not defined in Path '{source.Text}'.";
                return false;
            }

            parts[i] = new UpstreamPart(null, name);
        }

        var trimmed = upstreamPath.Trim();
        rewriter = new PathRewriter(0, parts, trimmed.Length > 1 && trimmed[^1] == '/');
        error = null;
        return true;
    }

    private static bool Contains(IReadOnlyList<string> names, string name)
    {
        // Route values are case-insensitive, as in ASP.NET Core.
        foreach (var candidate in names)
        {
            if (string.Equals(candidate, name, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>A literal segment or a parameter of the upstream template.</summary>
    private readonly record struct UpstreamPart(string? Literal, string? ParameterName);
}
