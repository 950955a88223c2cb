using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;

namespace FuncGateway.Routing;

/// <summary>
/// A parsed, validated route path template in ASP.NET Core route-template syntax, restricted to what the gateway
/// matches: literal segments and one parameter per segment (<c>{id}</c>, <c>{id:int}</c>, <c>{id?}</c>,
/// <c>{id=1}</c>, <c>{**rest}</c>). Constraints are resolved here, once, so a bad template rejects its route.
/// </summary>
internal sealed class RouteTemplate
{
    private const string PathLabel = "Path";

    private RouteTemplate(string text, RouteTemplateSegment[] segments)
    {
        Text = text;
        Segments = segments;

        var names = new List<string>();
        var literalPrefix = 0;
        var countingLiterals = true;
        var shape = new StringBuilder(text.Length);
        foreach (var segment in segments)
        {
            shape.Append('/');
            if (segment.Kind == RouteSegmentKind.Literal)
            {
                AppendLowerInvariant(shape, segment.Text);
                literalPrefix += countingLiterals ? 1 : 0;
                continue;
            }

            countingLiterals = false;
            names.Add(segment.Text);
            HasConstraints |= segment.Constraints.Count > 0;
            shape.Append('{');
            if (segment.Kind == RouteSegmentKind.CatchAll)
            {
                shape.Append("**");
            }

            AppendConstraints(shape, segment.Constraints);

            shape.Append(segment.IsOptional ? "?}" : "}");
        }

        ParameterNames = names;
        LiteralPrefixSegmentCount = literalPrefix;
        HasCatchAll = segments.Length > 0 && segments[^1].Kind == RouteSegmentKind.CatchAll;
        ShapeKey = shape.Length == 0 ? "/" : shape.ToString();
    }

    /// <summary>
    /// A segment's constraints as they match: names compare case-insensitively (<c>INT</c> is <c>int</c>) and every
    /// constraint must hold, so their order does not count either. Arguments (a regex) are kept as written.
    /// </summary>
    private static void AppendConstraints(StringBuilder shape, IReadOnlyList<RouteTemplateConstraint> constraints)
    {
        if (constraints.Count == 0)
        {
            return;
        }

        var texts = new string[constraints.Count];
        for (var i = 0; i < texts.Length; i++)
        {
            var text = constraints[i].Text;
            var nameEnd = text.IndexOf('(', StringComparison.Ordinal);
            nameEnd = nameEnd < 0 ? text.Length : nameEnd;
            texts[i] = text[..nameEnd].ToLowerInvariant() + text[nameEnd..];
        }

        Array.Sort(texts, StringComparer.Ordinal);
        foreach (var text in texts)
        {
            shape.Append(':').Append(text);
        }
    }

    /// <summary>The template as given.</summary>
    public string Text { get; }

    /// <summary>
    /// The template normalized for conflict detection: literals lower-cased, parameter names dropped, constraints
    /// kept with their names lower-cased, in ordinal order (<c>/orders/{:int:min(1)}</c>); <c>{?}</c> for a parameter
    /// that may be missing (optional or with a default), <c>{**}</c> for a catch-all. Two templates with the same key match exactly the same paths.
    /// </summary>
    public string ShapeKey { get; }

    public IReadOnlyList<string> ParameterNames { get; }

    public bool HasCatchAll { get; }

    /// <summary>How many segments at the start of the template are literals (<c>/api/v1/{id}</c>: 2).</summary>
    public int LiteralPrefixSegmentCount { get; }

    internal IReadOnlyList<RouteTemplateSegment> Segments { get; }

    internal bool HasConstraints { get; }

    public static bool TryParse(
        string? template,
        [NotNullWhen(true)] out RouteTemplate? result,
        [NotNullWhen(false)] out string? error) =>
        TryParse(template, PathLabel, out result, out error);

    /// <param name="template">The template text.</param>
    /// <param name="label">The setting's name as the user knows it, used to start every error message.</param>
    /// <param name="result">The template, when valid.</param>
    /// <param name="error">One sentence saying what is wrong, when invalid.</param>
    internal static bool TryParse(
        string? template,
        string label,
        [NotNullWhen(true)] out RouteTemplate? result,
        [NotNullWhen(false)] out string? error)
    {
        result = null;
        if (string.IsNullOrWhiteSpace(template))
        {
            error = $"{label} is empty; it must start with '/', for example '/api/orders'.";
            return false;
        }

        if (template[0] != '/')
        {
            error = $"{label} '{template}' must start with '/'.";
            return false;
        }

        RoutePattern pattern;
        try
        {
            pattern = RoutePatternFactory.Parse(template);
        }
        catch (Exception ex) when (ex is RoutePatternException or InvalidOperationException)
        {
            // InvalidOperationException: more segments than ASP.NET Core's route precedence supports (28).
            error = $"{label} '{template}': {ex.Message}";
            return false;
        }

        var segments = new RouteTemplateSegment[pattern.PathSegments.Count];
        for (var i = 0; i < segments.Length; i++)
        {
            var parts = pattern.PathSegments[i].Parts;
            if (parts.Count != 1)
            {
                error = $"{label} '{template}': segment '{RawSegment(template, i)}' mixes literals and parameters; "
                    + "use one parameter per segment.";
                return false;
            }

            var isLast = i == segments.Length - 1;
            switch (parts[0])
            {
                case RoutePatternLiteralPart literal:
                    segments[i] = RouteTemplateSegment.Literal(literal.Content);
                    break;
                case RoutePatternParameterPart parameter:
                    if (!TryCreateParameter(label, template, parameter, isLast, out var segment, out error))
                    {
                        return false;
                    }

                    segments[i] = segment;
                    break;
                default:
                    error = $"{label} '{template}': segment '{RawSegment(template, i)}' is not supported.";
                    return false;
            }
        }

        result = new RouteTemplate(template, segments);
        error = null;
        return true;
    }

    private static bool TryCreateParameter(
        string label,
        string template,
        RoutePatternParameterPart parameter,
        bool isLast,
        [NotNullWhen(true)] out RouteTemplateSegment? segment,
        [NotNullWhen(false)] out string? error)
    {
        segment = null;
        var name = parameter.Name;
        foreach (var c in name)
        {
            if (char.IsWhiteSpace(c))
            {
                error = $"{label} '{template}': parameter name '{name}' contains whitespace.";
                return false;
            }
        }

        if (parameter.IsOptional && !isLast)
        {
            error = $"{label} '{template}': optional parameter '{name}' must be in the last segment.";
            return false;
        }

        var defaultValue = parameter.Default is null
            ? null
            : Convert.ToString(parameter.Default, CultureInfo.InvariantCulture);
        if (defaultValue is not null && !isLast)
        {
            // A default can only apply when the segment is missing, and only the last segment can be missing.
            error = $"{label} '{template}': parameter '{name}' has a default value but is not in the last segment; "
                + "only the last segment can be left out.";
            return false;
        }

        // Most parameters have no constraint: no list for them (10,000 routes kept 10,000 empty ones).
        List<RouteTemplateConstraint>? constraints = null;
        foreach (var policy in parameter.ParameterPolicies)
        {
            if (string.IsNullOrEmpty(policy.Content))
            {
                continue;
            }

            if (!RouteConstraintResolver.TryResolve(policy.Content, out var constraint, out var problem))
            {
                error = $"{label} '{template}': constraint '{policy.Content}' on parameter '{name}' {problem}.";
                return false;
            }

            if (defaultValue is not null && !constraint.Match(
                    httpContext: null,
                    route: null,
                    name,
                    new RouteValueDictionary { [name] = defaultValue },
                    RouteDirection.IncomingRequest))
            {
                error = $"{label} '{template}': default value '{defaultValue}' of parameter '{name}' "
                    + $"does not satisfy its constraint '{policy.Content}'.";
                return false;
            }

            (constraints ??= new(parameter.ParameterPolicies.Count)).Add(new RouteTemplateConstraint(policy.Content, constraint));
        }

        segment = RouteTemplateSegment.Parameter(
            name,
            parameter.IsCatchAll,
            parameter.IsOptional || defaultValue is not null,
            defaultValue,
            (IReadOnlyList<RouteTemplateConstraint>?)constraints ?? []);
        error = null;
        return true;
    }

    /// <summary>The index-th segment as the user wrote it, for error messages ('/' inside braces is not a separator).</summary>
    private static string RawSegment(string template, int index)
    {
        var start = 1;
        var depth = 0;
        var current = 0;
        for (var i = 1; i <= template.Length; i++)
        {
            var c = i < template.Length ? template[i] : '/';
            if (c == '{')
            {
                depth++;
            }
            else if (c == '}')
            {
                depth = Math.Max(0, depth - 1);
            }
            else if (c == '/' && depth == 0)
            {
                if (current == index)
                {
                    return template[start..i];
                }

                current++;
                start = i + 1;
            }
        }

        return template;
    }

    private static void AppendLowerInvariant(StringBuilder builder, string text)
    {
        foreach (var c in text)
        {
            builder.Append(char.ToLowerInvariant(c));
        }
    }
}
