using System.Collections.Immutable;
using FuncGateway.Model;
using FuncGateway.Routing;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace FuncGateway.Versioning;

/// <summary>
/// A route's place in a version set, compiled with its snapshot: which version it serves, how a request is matched to
/// it (<see cref="ApiVersionCondition"/>, and for a <c>Path</c> set's default version the path without its version
/// segment), and what its responses carry (<c>Vary</c>, and the deprecation headers of a deprecated version).
/// </summary>
internal sealed class RouteApiVersion : IRouteMatchFeature, IRouteSelectingInput
{
    internal RouteApiVersion(ApiVersionSet set, string version, int segmentIndex)
    {
        Set = set;
        SegmentIndex = segmentIndex;
        Version = version;
        IsDefault = string.Equals(set.Default, version, StringComparison.OrdinalIgnoreCase);
        Deprecation = set.Deprecations.GetValueOrDefault(version);
        Segment = set.ClientForm(version);
        SelectingHeaders = set.Vary is { } header ? [header] : [];
        SelectingQueryParameters = set.Scheme == ApiVersionScheme.Query ? [set.Parameter] : [];
    }

    /// <summary><c>Header</c> sets: the version header; <c>MediaType</c> sets: <c>Accept</c>. (A path's version is in the path.)</summary>
    public IReadOnlyList<string> SelectingHeaders { get; }

    /// <summary><c>Query</c> sets: the version's query parameter.</summary>
    public IReadOnlyList<string> SelectingQueryParameters { get; }

    public ApiVersionSet Set { get; }

    /// <summary>The version, as the set spells it.</summary>
    public string Version { get; }

    public bool IsDefault { get; }

    /// <summary>The version's deprecation headers, or null when it is not deprecated.</summary>
    public VersionDeprecation? Deprecation { get; }

    /// <summary>How a client writes the version: <c>v2</c> in a path, <c>2</c> elsewhere.</summary>
    public string Segment { get; }

    /// <summary><c>Path</c> sets: the index of the version's segment in the route's path.</summary>
    public int SegmentIndex { get; }

    /// <summary>Whether responses need headers added as they start.</summary>
    public bool DecoratesResponses => Deprecation is not null || Set.Vary is not null;

    public RouteMatchSpec Refine(RouteMatchSpec spec, List<string> errors)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(errors);
        var refined = spec with { Condition = new ApiVersionCondition(this, SegmentIndex) };
        if (Set.Scheme != ApiVersionScheme.Path || !IsDefault)
        {
            return refined;
        }

        // The default version is also reached by the path without its version segment; the step then puts the
        // segment back, so the route forwards exactly what it would for the versioned path.
        var parts = spec.Template.Text.Split('/');
        var without = string.Join('/', parts.Where((_, i) => i != SegmentIndex + 1));
        if (without.Length == 0)
        {
            without = "/";
        }

        if (!RouteTemplate.TryParse(without, out var template, out var error))
        {
            errors.Add($"Path '{PrintableText.Of(spec.Template.Text)}' without its version segment (for requests that name no version) is not a valid template: {error}");
            return refined;
        }

        return refined with { Alternates = [spec with { Template = template, Condition = null, Alternates = [] }] };
    }

    /// <summary>
    /// <c>Path</c> sets: the index of the one <c>{version}</c> segment of <paramref name="path"/> (no constraint,
    /// default, <c>?</c> or catch-all), or -1 with the problem added. Other sets: -1.
    /// </summary>
    public static int FindSegment(ApiVersionSet set, string path, List<string> errors)
    {
        if (set.Scheme != ApiVersionScheme.Path || !RouteTemplate.TryParse(path, out var template, out _))
        {
            // Other schemes use no segment; a bad template is reported by the snapshot builder.
            return -1;
        }

        var found = -1;
        var segments = template.Segments;
        for (var i = 0; i < segments.Count; i++)
        {
            if (segments[i].Kind != RouteSegmentKind.Literal && string.Equals(segments[i].Text, set.Parameter, StringComparison.OrdinalIgnoreCase))
            {
                found = i;
            }
        }

        if (found < 0)
        {
            errors.Add($"Path '{PrintableText.Of(path)}' has no '{{{set.Parameter}}}' segment: routes of version set '{set.Name}' (Scheme Path) mark the version's place in the path with it, e.g. '/api/{{{set.Parameter}}}/orders'.");
            return -1;
        }

        var segment = segments[found];
        if (segment.Kind == RouteSegmentKind.CatchAll || segment.IsOptional || segment.Default is not null || segment.Constraints.Count > 0)
        {
            errors.Add($"Path '{PrintableText.Of(path)}': the version segment '{{{set.Parameter}}}' takes no constraint, default or '?' and is no catch-all (the set says which versions exist).");
            return -1;
        }

        return found;
    }
}

/// <summary>The match condition of one version's route: the request names the version, or names none and it is the default.</summary>
internal sealed class ApiVersionCondition(RouteApiVersion route, int segmentIndex) : IRouteMatchCondition
{
    public RouteApiVersion Route { get; } = route;

    public string ConflictKey { get; } = KeyOf(route.Set.Name, route.Version);

    /// <summary>The conflict key of a version of a set: routes of one set and version conflict, two versions do not.</summary>
    public static string KeyOf(string set, string version) => "api-version:" + set.ToUpperInvariant() + ":" + version.ToUpperInvariant();

    public bool Matches(HttpRequest request, RouteValueDictionary? values)
    {
        var requested = Requested(request);
        return requested is null ? Route.IsDefault : string.Equals(requested, Route.Segment, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>The version as the request names it (its path segment, header, query parameter or media type parameter), or null.</summary>
    public string? Requested(HttpRequest request)
    {
        if (Route.Set.Scheme != ApiVersionScheme.Path)
        {
            return Route.Set.ReadRequested(request);
        }

        // The path's segment at the version's place (what the route value will hold), read without allocating the
        // route values.
        var path = (request.Path.Value ?? "").AsSpan().TrimStart('/');
        for (var i = 0; i < segmentIndex; i++)
        {
            var slash = path.IndexOf('/');
            if (slash < 0)
            {
                return null;
            }

            path = path[(slash + 1)..];
        }

        var end = path.IndexOf('/');
        var segment = end < 0 ? path : path[..end];
        return segment.Equals(Route.Segment, StringComparison.OrdinalIgnoreCase) ? Route.Segment : segment.ToString();
    }
}

/// <summary>Compiles a route's <c>VersionSet</c> and <c>ApiVersion</c>: both or neither, a configured set, one of its versions.</summary>
internal sealed class ApiVersionRouteCompiler(ApiVersionSets sets) : IRouteFeatureCompiler
{
    public object? Compile(RouteDefinition route, List<string> errors)
    {
        ArgumentNullException.ThrowIfNull(route);
        ArgumentNullException.ThrowIfNull(errors);
        var setName = route.Get(VersioningProperties.VersionSet);
        var version = route.Get(VersioningProperties.ApiVersion);
        if (setName is null)
        {
            if (version is not null)
            {
                errors.Add($"ApiVersion '{version}' needs VersionSet: the version set (FuncGateway:Versioning:Sets) whose version the route serves.");
            }

            return null;
        }

        if (!sets.TryGet(setName, out var set))
        {
            errors.Add(sets.Names.Count == 0
                ? $"VersionSet names set '{setName}', but no version set is configured ({VersioningSettings.SectionName}:Sets)."
                : $"VersionSet names unknown set '{setName}'. Configured sets: {string.Join(", ", sets.Names)}.");
            return null;
        }

        if (version is null)
        {
            errors.Add($"VersionSet '{set.Name}' needs ApiVersion: the version of the set the route serves ({string.Join(", ", set.Versions)}).");
            return null;
        }

        if (set.Find(version) is not { } known)
        {
            errors.Add($"ApiVersion '{version}' is not a version of set '{set.Name}' ({string.Join(", ", set.Versions)}).");
            return null;
        }

        var before = errors.Count;
        var segmentIndex = RouteApiVersion.FindSegment(set, route.Path, errors);
        return errors.Count == before ? new RouteApiVersion(set, known, segmentIndex) : null;
    }
}

/// <summary>The versions a refused request could have named, in the set's order and as a client writes them.</summary>
internal static class SupportedVersions
{
    public static ImmutableArray<string> Of(ApiVersionSet set, IReadOnlyList<IRouteMatchCondition> failed)
    {
        var builder = ImmutableArray.CreateBuilder<string>();
        foreach (var version in set.Versions)
        {
            foreach (var condition in failed)
            {
                if (condition is ApiVersionCondition c && ReferenceEquals(c.Route.Set, set) && string.Equals(c.Route.Version, version, StringComparison.OrdinalIgnoreCase))
                {
                    builder.Add(set.ClientForm(version));
                    break;
                }
            }
        }

        return builder.ToImmutable();
    }
}

/// <summary>
/// What <c>fgw validate</c> and <c>fgw import</c> know of a route's version without the gateway's configuration: its set
/// and version, so that two versions of one path are not taken for a conflict, and two routes of one version are. The
/// snapshot it builds is never served. (Whether the set exists and holds the version, and the default's path without
/// its segment, need the configuration: the gateway checks them when it loads the row.)
/// </summary>
internal sealed class OfflineApiVersionCompiler : IRouteFeatureCompiler
{
    public static OfflineApiVersionCompiler Instance { get; } = new();

    public object? Compile(RouteDefinition route, List<string> errors)
    {
        ArgumentNullException.ThrowIfNull(route);
        ArgumentNullException.ThrowIfNull(errors);
        var set = route.Get(VersioningProperties.VersionSet);
        var version = route.Get(VersioningProperties.ApiVersion);
        if (set is not null && version is not null)
        {
            return new OfflineVersion(ApiVersionCondition.KeyOf(set, version));
        }

        if (set is not null || version is not null)
        {
            errors.Add(set is null
                ? $"ApiVersion '{version}' needs VersionSet: the version set (FuncGateway:Versioning:Sets) whose version the route serves."
                : $"VersionSet '{set}' needs ApiVersion: the version of the set the route serves.");
        }

        return null;
    }

    private sealed class OfflineVersion(string key) : IRouteMatchFeature, IRouteMatchCondition
    {
        public string ConflictKey { get; } = key;

        public bool Matches(HttpRequest request, RouteValueDictionary? values) =>
            throw new InvalidOperationException("An offline validation snapshot is never matched against requests.");

        public RouteMatchSpec Refine(RouteMatchSpec spec, List<string> errors) => spec with { Condition = this };
    }
}
