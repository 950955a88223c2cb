using Microsoft.AspNetCore.Routing;

namespace FuncGateway.Routing;

/// <summary>One validated segment of a <see cref="RouteTemplate"/>.</summary>
internal sealed class RouteTemplateSegment
{
    private RouteTemplateSegment(
        RouteSegmentKind kind,
        string text,
        bool isOptional,
        string? defaultValue,
        IReadOnlyList<RouteTemplateConstraint> constraints)
    {
        Kind = kind;
        Text = text;
        IsOptional = isOptional;
        Default = defaultValue;
        Constraints = constraints;
    }

    public RouteSegmentKind Kind { get; }

    /// <summary>The literal text, or the parameter name.</summary>
    public string Text { get; }

    /// <summary>
    /// True when the segment may be missing from the request path: an optional parameter (<c>{id?}</c>) or a
    /// parameter with a default (<c>{id=1}</c>). Both are only allowed in the last segment. A catch-all may always
    /// be empty and is not flagged here.
    /// </summary>
    public bool IsOptional { get; }

    public string? Default { get; }

    public IReadOnlyList<RouteTemplateConstraint> Constraints { get; }

    public static RouteTemplateSegment Literal(string text) => new(RouteSegmentKind.Literal, text, false, null, []);

    public static RouteTemplateSegment Parameter(
        string name,
        bool isCatchAll,
        bool isOptional,
        string? defaultValue,
        IReadOnlyList<RouteTemplateConstraint> constraints) =>
        new(isCatchAll ? RouteSegmentKind.CatchAll : RouteSegmentKind.Parameter, name, isOptional, defaultValue, constraints);
}

/// <summary>An inline constraint as written in the template (<c>int</c>, <c>min(1)</c>) and its resolved instance.</summary>
internal sealed record RouteTemplateConstraint(string Text, IRouteConstraint Constraint);
