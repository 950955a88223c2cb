namespace FuncGateway.Validation;

/// <summary>
/// How a route validates requests, as an operator wrote it (the route's <c>Validation</c> property, JSON). Every
/// member is optional; a missing one checks nothing. The format is documented in <c>docs/validation.md</c>.
/// </summary>
public sealed record ValidationDefinition
{
    /// <summary>Media types a request body may have (<c>type/subtype</c>, <c>type/*</c>, <c>application/*+json</c>); others get 415.</summary>
    public IReadOnlyList<string>? ContentTypes { get; init; }

    /// <summary>The route's largest request body in bytes, above or below <c>FuncGateway:Forwarding:MaxRequestBodySizeBytes</c>.</summary>
    public long? MaxBodyBytes { get; init; }

    /// <summary>Limits on JSON bodies that protect upstream parsers; present (or a schema) makes the route parse JSON bodies.</summary>
    public JsonLimitsDefinition? Json { get; init; }

    /// <summary>The name of a schema in the Schemas table the JSON body must satisfy (draft 2020-12, formats asserted).</summary>
    public string? Schema { get; init; }

    /// <summary>Rules for query parameters, by name (case-sensitive).</summary>
    public IReadOnlyDictionary<string, ParameterRuleDefinition>? Query { get; init; }

    /// <summary>Rules for request headers, by name (case-insensitive).</summary>
    public IReadOnlyDictionary<string, ParameterRuleDefinition>? Headers { get; init; }

    /// <summary>Refuse a query parameter given more than once, and a header with a rule given more than once (parameter pollution).</summary>
    public bool? RejectRepeated { get; init; }

    /// <summary>Opt-in SQL-injection and XSS screening of path, query, headers and JSON string values.</summary>
    public InjectionDefinition? Injection { get; init; }
}

/// <summary>Limits on a JSON body; each is optional.</summary>
public sealed record JsonLimitsDefinition
{
    /// <summary>Deepest nesting of objects and arrays (a flat object is depth 1). Default 64.</summary>
    public int? MaxDepth { get; init; }

    /// <summary>Longest string value or member name, in UTF-16 code units after unescaping.</summary>
    public int? MaxStringLength { get; init; }

    /// <summary>Most members in one object.</summary>
    public int? MaxProperties { get; init; }

    /// <summary>Most items in one array.</summary>
    public int? MaxArrayItems { get; init; }
}

/// <summary>A rule for one query parameter or header.</summary>
public sealed record ParameterRuleDefinition
{
    /// <summary>The parameter must be present.</summary>
    public bool? Required { get; init; }

    /// <summary>The value's type: <c>string</c> (default), <c>integer</c>, <c>number</c>, <c>boolean</c>, <c>uuid</c>, <c>date</c>, <c>date-time</c>.</summary>
    public string? Type { get; init; }

    /// <summary>A .NET regular expression the whole value must match (checked with a 100 ms timeout).</summary>
    public string? Pattern { get; init; }

    /// <summary>Longest value, in characters.</summary>
    public int? MaxLength { get; init; }
}

/// <summary>Which injection signatures to screen for, and which body fields are free text.</summary>
public sealed record InjectionDefinition
{
    /// <summary>Screen for SQL-injection signatures.</summary>
    public bool? Sql { get; init; }

    /// <summary>Screen for cross-site-scripting signatures.</summary>
    public bool? Xss { get; init; }

    /// <summary>JSON Pointers of body fields that are free text and are not screened (<c>*</c> matches any one member or index); what lies below them is exempt too.</summary>
    public IReadOnlyList<string>? FreeText { get; init; }
}
