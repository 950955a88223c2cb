namespace FuncGateway.Composition;

/// <summary>
/// A route's <c>Composition</c> (a JSON object): the upstream requests that make up its response and how their
/// answers are merged. See docs/aggregation.md.
/// </summary>
public sealed record CompositionDefinition
{
    /// <summary>The upstream requests (1–16), run in parallel except where one depends on another.</summary>
    public required IReadOnlyList<CompositionPartDefinition> Parts { get; init; }

    /// <summary>A Liquid template producing the JSON response from <c>parts</c>; null: <c>{"&lt;part&gt;": body, ...}</c>.</summary>
    public string? Template { get; init; }
}

/// <summary>One upstream request of a composition.</summary>
public sealed record CompositionPartDefinition
{
    /// <summary>The part's name: a key of the merged response and of the template's <c>parts</c>.</summary>
    public required string Name { get; init; }

    /// <summary>A pool name or an absolute http(s) URL, as a route's <c>Upstream</c>.</summary>
    public required string Upstream { get; init; }

    /// <summary>The path and query sent, with <c>{routeValue}</c>, <c>{query.name}</c>, <c>{parts.name.body.a.b}</c>, <c>{parts.name.status}</c>.</summary>
    public required string Path { get; init; }

    /// <summary>The method (default <c>GET</c>). Parts send no body.</summary>
    public string? Method { get; init; }

    /// <summary>How long the part may take, in milliseconds (1–3600000). Null: the route's timeout.</summary>
    public int? TimeoutMs { get; init; }

    /// <summary>False: the response is sent without this part when it fails (listed in <c>_partial</c>). Default true.</summary>
    public bool? Required { get; init; }

    /// <summary>Parts whose answers this one waits for (and may use in its <see cref="Path"/>).</summary>
    public IReadOnlyList<string>? DependsOn { get; init; }
}
