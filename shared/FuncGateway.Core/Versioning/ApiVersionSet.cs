using System.Collections.Frozen;
using System.Collections.Immutable;
using FuncGateway.Model;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace FuncGateway.Versioning;

/// <summary>Where a request names the API version it wants.</summary>
internal enum ApiVersionScheme
{
    /// <summary>A path segment, <c>/v2/</c>: the route's <c>{version}</c> parameter.</summary>
    Path,

    /// <summary>A request header, <c>Api-Version: 2</c>.</summary>
    Header,

    /// <summary>A query parameter, <c>?api-version=2</c>.</summary>
    Query,

    /// <summary>A parameter of the <c>Accept</c> header's media type, <c>Accept: application/json;v=2</c>.</summary>
    MediaType,
}

/// <summary>A validated version set, compiled once at start-up and shared by the routes that name it.</summary>
internal sealed class ApiVersionSet
{
    internal ApiVersionSet(
        string name,
        ApiVersionScheme scheme,
        string parameter,
        string pathPrefix,
        ImmutableArray<string> versions,
        string? defaultVersion,
        FrozenDictionary<string, VersionDeprecation> deprecations)
    {
        Name = name;
        Scheme = scheme;
        Parameter = parameter;
        PathPrefix = pathPrefix;
        Versions = versions;
        Default = defaultVersion;
        Deprecations = deprecations;
        Vary = scheme switch
        {
            ApiVersionScheme.Header => parameter,
            ApiVersionScheme.MediaType => HeaderNames.Accept,
            _ => null,
        };
    }

    public string Name { get; }

    public ApiVersionScheme Scheme { get; }

    /// <summary>The route parameter, header, query parameter or media type parameter that carries the version.</summary>
    public string Parameter { get; }

    /// <summary><see cref="ApiVersionScheme.Path"/>: the text before the version in its segment.</summary>
    public string PathPrefix { get; }

    /// <summary>The versions as configured, in order.</summary>
    public ImmutableArray<string> Versions { get; }

    public string? Default { get; }

    /// <summary>The deprecated versions (compared case-insensitively).</summary>
    public FrozenDictionary<string, VersionDeprecation> Deprecations { get; }

    /// <summary>The request header the choice of version depends on (for <c>Vary</c>), or null when the URL carries it.</summary>
    public string? Vary { get; }

    /// <summary>The version's configured spelling, when <paramref name="text"/> is one of the set's versions.</summary>
    public string? Find(string text)
    {
        foreach (var version in Versions)
        {
            if (string.Equals(version, text, StringComparison.OrdinalIgnoreCase))
            {
                return version;
            }
        }

        return null;
    }

    /// <summary>How a client writes <paramref name="version"/>: with the path prefix in a path segment (<c>v2</c>), as it is elsewhere.</summary>
    public string ClientForm(string version) => Scheme == ApiVersionScheme.Path ? PathPrefix + version : version;

    /// <summary>
    /// The version a request names in its header, query or <c>Accept</c> (not its path), as sent; null when it names
    /// none. Several values (two headers, two query parameters, two different media type parameters) are returned
    /// joined with <c>", "</c>, which is no version, so the request is refused rather than served by a guess.
    /// </summary>
    public string? ReadRequested(HttpRequest request)
    {
        switch (Scheme)
        {
            case ApiVersionScheme.Header:
                return Joined(request.Headers[Parameter]);
            case ApiVersionScheme.Query:
                return Joined(QueryValues(request.Query));
            case ApiVersionScheme.MediaType:
                return FromAccept(request.Headers.Accept);
            default:
                return null;
        }
    }

    /// <summary>
    /// The values of the query parameter, and of its bracketed forms (<c>api-version[]=1</c>, <c>api-version[0]=1</c>):
    /// PHP, Rack and Express (qs) read those as the parameter itself, so a backend would see a version the gateway did
    /// not route on (<c>?api-version[]=1</c> reaching the default version's route, or both at once).
    /// </summary>
    private StringValues QueryValues(IQueryCollection query)
    {
        var values = query[Parameter];
        foreach (var (key, more) in query)
        {
            if (QueryStringEditor.IsBracketedForm(key, Parameter))
            {
                values = StringValues.Concat(values, more);
            }
        }

        return values;
    }

    private static string? Joined(StringValues values)
    {
        if (values.Count == 0)
        {
            return null;
        }

        var text = values.Count == 1 ? values[0] : string.Join(", ", values.ToArray());
        text = text?.Trim();
        return string.IsNullOrEmpty(text) ? null : text;
    }

    private string? FromAccept(StringValues accept)
    {
        if (accept.Count == 0 || !MediaTypeHeaderValue.TryParseList(accept, out var ranges))
        {
            return null;
        }

        string? found = null;
        foreach (var range in ranges)
        {
            foreach (var parameter in range.Parameters)
            {
                if (!parameter.Name.Equals(Parameter, StringComparison.OrdinalIgnoreCase))
                {
                    continue;
                }

                var value = HeaderUtilities.RemoveQuotes(parameter.Value).ToString().Trim();
                if (value.Length == 0)
                {
                    continue;
                }

                if (found is null)
                {
                    found = value;
                }
                else if (!found.Equals(value, StringComparison.OrdinalIgnoreCase))
                {
                    found += ", " + value;
                }
            }
        }

        return found;
    }
}

/// <summary>The response headers of a deprecated version, built once at start-up.</summary>
/// <param name="Deprecation">RFC 9745 <c>Deprecation</c>: <c>@</c> and the Unix time in seconds.</param>
/// <param name="Sunset">RFC 8594 <c>Sunset</c>: an HTTP-date, or null.</param>
/// <param name="Links">The <c>Link</c> values to append: the successor (<c>rel="successor-version"</c>) and the deprecation's documentation (<c>rel="deprecation"</c>).</param>
internal sealed record VersionDeprecation(string Deprecation, string? Sunset, ImmutableArray<string> Links);
