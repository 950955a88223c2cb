namespace FuncGateway.Routing;

/// <summary>What one segment of a <see cref="RouteTemplate"/> matches.</summary>
internal enum RouteSegmentKind
{
    /// <summary>A fixed text, compared case-insensitively.</summary>
    Literal,

    /// <summary>One non-empty path segment, captured under the parameter's name.</summary>
    Parameter,

    /// <summary>The rest of the path, possibly empty, with its '/' separators kept.</summary>
    CatchAll,
}
