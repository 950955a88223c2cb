namespace FuncGateway.Versioning;

/// <summary>
/// <c>FuncGateway:Versioning</c>: API version sets by name, which routes name in their <c>VersionSet</c> property.
/// Bound with <c>BindKnownSettings</c> (an unknown key stops start-up) and checked in full by
/// <see cref="VersioningSettingsValidator"/>.
/// </summary>
internal sealed class VersioningSettings
{
    public const string SectionName = "FuncGateway:Versioning";

    /// <summary>The sets, by name (letters, digits and single '_'; compared case-insensitively).</summary>
    public Dictionary<string, VersionSetSettings> Sets { get; } = new(StringComparer.OrdinalIgnoreCase);
}

/// <summary>One version set as configured.</summary>
internal sealed class VersionSetSettings
{
    /// <summary>Required: where a request names its version: <c>Path</c>, <c>Header</c>, <c>Query</c> or <c>MediaType</c>.</summary>
    public string? Scheme { get; set; }

    /// <summary>
    /// The route parameter (<c>Path</c>, default <c>version</c>), header (<c>Header</c>, default <c>Api-Version</c>),
    /// query parameter (<c>Query</c>, default <c>api-version</c>) or media type parameter of <c>Accept</c>
    /// (<c>MediaType</c>, default <c>v</c>) that carries the version.
    /// </summary>
    public string? Parameter { get; set; }

    /// <summary><c>Path</c> only: the text before the version in its path segment (default <c>v</c>: <c>/v2/</c>).</summary>
    public string? PathPrefix { get; set; }

    /// <summary>Required: the versions of the API, comma-separated, in the order error responses list them.</summary>
    public string? Versions { get; set; }

    /// <summary>The version a request that names none is served by; unset: such a request gets 400.</summary>
    public string? Default { get; set; }

    /// <summary>Deprecated versions, each under a key of its own (the version itself, or any label with <c>Version</c> set).</summary>
    public Dictionary<string, VersionDeprecationSettings> Deprecations { get; } = new(StringComparer.OrdinalIgnoreCase);
}

/// <summary>The deprecation of one version.</summary>
internal sealed class VersionDeprecationSettings
{
    /// <summary>The deprecated version; default: the entry's key.</summary>
    public string? Version { get; set; }

    /// <summary>Required: when the version is (or will be) deprecated, ISO 8601 (<c>2026-01-01</c> or <c>2026-01-01T00:00:00Z</c>).</summary>
    public string? Date { get; set; }

    /// <summary>When the version stops being served, ISO 8601; not before <see cref="Date"/>.</summary>
    public string? Sunset { get; set; }

    /// <summary>Where the successor version is described: an absolute http(s) URL or a path beginning with <c>/</c>.</summary>
    public string? SuccessorLink { get; set; }

    /// <summary>Where the deprecation is described (RFC 9745 <c>rel="deprecation"</c>): an absolute http(s) URL or a path.</summary>
    public string? DeprecationLink { get; set; }
}
