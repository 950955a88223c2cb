using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using FuncGateway.Model;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace FuncGateway.Composition;

/// <summary>
/// A part's <c>Path</c>, parsed once: literal text with <c>{name}</c> (a route value), <c>{query.name}</c> (a query
/// parameter of the client's request), <c>{parts.part.status}</c> and <c>{parts.part.body}</c> /
/// <c>{parts.part.body.a.b.0}</c> (a value of an earlier part's JSON answer). Values are percent-encoded.
/// </summary>
internal sealed class PartPath
{
    private readonly Segment[] _segments;

    private PartPath(Segment[] segments, IReadOnlyList<string> parts)
    {
        _segments = segments;
        PartsUsed = parts;
    }

    private enum Source
    {
        Literal,
        Route,
        Query,
        PartStatus,
        PartBody,
    }

    /// <summary>The parts whose answers the path reads.</summary>
    public IReadOnlyList<string> PartsUsed { get; }

    /// <summary>Parses <paramref name="text"/>; problems go to <paramref name="errors"/> prefixed with <paramref name="where"/>.</summary>
    public static PartPath? Parse(string text, string where, List<string> errors)
    {
        var start = errors.Count;
        if (!text.StartsWith('/'))
        {
            errors.Add($"{where}: path '{PrintableText.Of(text)}' must start with '/'.");
        }

        var segments = new List<Segment>();
        var parts = new List<string>();
        var literal = new StringBuilder();
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '}' || (c == '{' && text.IndexOf('}', i) < 0))
            {
                errors.Add($"{where}: path '{PrintableText.Of(text)}' has an unmatched '{c}'.");
                break;
            }

            if (c != '{')
            {
                if (char.IsControl(c) || c is ' ' or '#')
                {
                    errors.Add($"{where}: path '{PrintableText.Of(text)}' may not contain spaces, '#' or control characters.");
                    break;
                }

                literal.Append(c);
                continue;
            }

            var end = text.IndexOf('}', i);
            var name = text[(i + 1)..end];
            i = end;
            if (literal.Length > 0)
            {
                segments.Add(new Segment(Source.Literal, literal.ToString(), null, []));
                literal.Clear();
            }

            if (Placeholder(name, where, errors) is { } segment)
            {
                segments.Add(segment);
                if (segment.Part is { } part && !parts.Contains(part, StringComparer.Ordinal))
                {
                    parts.Add(part);
                }
            }
        }

        if (literal.Length > 0)
        {
            segments.Add(new Segment(Source.Literal, literal.ToString(), null, []));
        }

        return errors.Count > start ? null : new PartPath([.. segments], parts);
    }

    private static Segment? Placeholder(string name, string where, List<string> errors)
    {
        var steps = name.Split('.');
        if (steps.Any(static s => s.Length == 0))
        {
            errors.Add($"{where}: '{{{PrintableText.Of(name)}}}' is not a placeholder ({{routeValue}}, {{query.name}}, {{parts.name.status}}, {{parts.name.body.member}}).");
            return null;
        }

        switch (steps[0])
        {
            case "query" when steps.Length == 2:
                return new Segment(Source.Query, steps[1], null, []);
            case "parts" when steps.Length == 3 && steps[2] == "status":
                return new Segment(Source.PartStatus, "", steps[1], []);
            case "parts" when steps.Length >= 3 && steps[2] == "body":
                return new Segment(Source.PartBody, "", steps[1], steps[3..]);
            case var route when steps.Length == 1 && steps[0] is not ("query" or "parts"):
                return new Segment(Source.Route, route, null, []);
            default:
                errors.Add($"{where}: '{{{PrintableText.Of(name)}}}' is not a placeholder ({{routeValue}}, {{query.name}}, {{parts.name.status}}, {{parts.name.body.member}}).");
                return null;
        }
    }

    /// <summary>The route values the path reads (to check against the route's template).</summary>
    public IEnumerable<string> RouteValuesUsed => _segments.Where(static s => s.Kind == Source.Route).Select(static s => s.Text);

    /// <summary>
    /// The path and query for one request, or null with the reason (<see cref="PartResult.MissingValue"/>,
    /// <see cref="PartResult.BadValue"/>) when a value is absent (a route value, a query parameter, or a member that
    /// the earlier part's answer does not have, or that is an object, an array or null) or cannot go into the path
    /// (it holds a slash or a backslash, or is <c>.</c> or <c>..</c>, which would change the upstream path's segments).
    /// </summary>
    public string? Render(RouteValueDictionary routeValues, IQueryCollection query, Func<string, PartResult> parts, out string? failure)
    {
        var builder = new StringBuilder();
        var inQuery = false;
        foreach (var segment in _segments)
        {
            string? value = segment.Kind switch
            {
                Source.Literal => segment.Text,
                Source.Route => routeValues.TryGetValue(segment.Text, out var v) ? Convert.ToString(v, CultureInfo.InvariantCulture) : null,
                Source.Query => query.TryGetValue(segment.Text, out var q) && q.Count > 0 ? q[0] : null,
                Source.PartStatus => parts(segment.Part!).Status.ToString(CultureInfo.InvariantCulture),
                _ => Scalar(Member(parts(segment.Part!).Body, segment.Steps)),
            };
            if (segment.Kind == Source.Literal)
            {
                inQuery |= value!.Contains('?', StringComparison.Ordinal);
                builder.Append(value);
                continue;
            }

            if (value is null or "")
            {
                failure = PartResult.MissingValue;
                return null;
            }

            // "...", ".. " count as "..": Windows servers drop a segment's trailing dots and spaces.
            if (!inQuery && (value.AsSpan().IndexOfAny('/', '\\') >= 0 || Forwarding.EncodedPath.IsDotSegment(value)))
            {
                failure = PartResult.BadValue;
                return null;
            }

            builder.Append(Uri.EscapeDataString(value));
        }

        failure = null;
        return builder.ToString();
    }

    private static object? Member(object? body, string[] steps)
    {
        var node = body as JsonNode;
        if (steps.Length == 0)
        {
            return body is string ? body : node;
        }

        foreach (var step in steps)
        {
            node = node switch
            {
                JsonObject o => o[step],
                JsonArray a when int.TryParse(step, NumberStyles.None, CultureInfo.InvariantCulture, out var i) && i < a.Count => a[i],
                _ => null,
            };
        }

        return node;
    }

    private static string? Scalar(object? value) => value switch
    {
        string s => s,
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        JsonValue v when v.TryGetValue<bool>(out var b) => b ? "true" : "false",
        JsonValue v => v.ToJsonString(),
        _ => null,
    };

    private sealed record Segment(Source Kind, string Text, string? Part, string[] Steps);
}
