using FuncGateway.Diagnostics;
using FuncGateway.Pipeline;
using FuncGateway.Routing;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace FuncGateway.Versioning;

/// <summary>
/// API versioning in the pre-match phase, first of its steps, so that IP rules, CORS and every post-match step see the
/// version's route:
/// <list type="bullet">
/// <item>A request that no route takes because of the version it names (or does not name) is answered 400
/// <c>unsupported_api_version</c> (or <c>api_version_required</c>) with the versions its path is served in.</item>
/// <item>A <c>Path</c> set's default version reached without its segment gets the segment put back into the path and
/// the route values, so the route forwards what it would for the versioned path.</item>
/// <item>As the response starts: <c>Vary</c> on the header the version came from, and on a deprecated version
/// <c>Deprecation</c>, <c>Sunset</c> and <c>Link</c>; on every response of the route, problems included.</item>
/// </list>
/// A refusal is logged at Information (event id 8200) with the set, the version asked for and the versions served.
/// </summary>
internal sealed class VersioningStep(ILogger<VersioningStep> logger) : IGatewayPreMatchStep
{
    public int Order => -200;

    public async ValueTask<bool> InvokeAsync(HttpContext context, GatewayPreMatchContext match)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(match);
        var result = match.Match;
        if (result.Outcome == RouteMatchOutcome.NotFound)
        {
            // A CORS preflight carries no version: it is the CORS step's (or a 404).
            if (IsPreflight(context.Request))
            {
                return true;
            }

            foreach (var failed in result.FailedConditions)
            {
                if (failed is ApiVersionCondition version)
                {
                    await RefuseAsync(context, version, result.FailedConditions);
                    return false;
                }
            }

            return true;
        }

        if (result.Outcome == RouteMatchOutcome.Matched && result.Route!.GetFeature<RouteApiVersion>() is { } route)
        {
            if (route.SegmentIndex >= 0 && !result.Values!.ContainsKey(route.Set.Parameter))
            {
                result.Values[route.Set.Parameter] = route.Segment;
                context.Request.Path = InsertSegment(context.Request.Path, route.SegmentIndex, route.Segment);
            }

            if (route.DecoratesResponses)
            {
                context.Response.OnStarting(static state =>
                {
                    var (response, version) = ((HttpResponse, RouteApiVersion))state;
                    Decorate(response, version);
                    return Task.CompletedTask;
                }, (context.Response, route));
            }
        }

        return true;
    }

    internal static void Decorate(HttpResponse response, RouteApiVersion route)
    {
        var headers = response.Headers;
        if (route.Set.Vary is { } vary && !Varies(headers.Vary, vary))
        {
            headers.Append(HeaderNames.Vary, vary);
        }

        if (route.Deprecation is { } deprecation)
        {
            headers["Deprecation"] = deprecation.Deprecation;
            if (deprecation.Sunset is not null)
            {
                headers["Sunset"] = deprecation.Sunset;
            }

            foreach (var link in deprecation.Links)
            {
                headers.Append(HeaderNames.Link, link);
            }
        }
    }

    /// <summary><paramref name="path"/> with <paramref name="segment"/> inserted as its segment number <paramref name="index"/> (0-based).</summary>
    internal static PathString InsertSegment(PathString path, int index, string segment)
    {
        var text = path.Value ?? "";
        var position = 0;
        for (var i = 0; i < index; i++)
        {
            var next = position + 1 < text.Length ? text.IndexOf('/', position + 1) : -1;
            if (next < 0)
            {
                position = text.Length;
                break;
            }

            position = next;
        }

        if (position >= text.Length)
        {
            return new PathString(text.TrimEnd('/') + "/" + segment);
        }

        return new PathString(string.Concat(text.AsSpan(0, position), "/", segment, text.AsSpan(position)));
    }

    private Task RefuseAsync(HttpContext context, ApiVersionCondition condition, IReadOnlyList<IRouteMatchCondition> failed)
    {
        var set = condition.Route.Set;
        var supported = SupportedVersions.Of(set, failed);
        var requested = condition.Requested(context.Request);
        var where = set.Scheme switch
        {
            ApiVersionScheme.Path => $"in the path as {string.Join(", ", supported.Select(static v => "/" + v + "/"))}",
            ApiVersionScheme.Header => $"in the {set.Parameter} header",
            ApiVersionScheme.Query => $"in the query parameter {set.Parameter}",
            _ => $"as the media type parameter {set.Parameter} of Accept, e.g. application/json;{set.Parameter}={supported.FirstOrDefault()}",
        };
        if (set.Vary is { } vary)
        {
            context.Response.OnStarting(static state =>
            {
                var (response, header) = ((HttpResponse, string))state;
                if (!Varies(response.Headers.Vary, header))
                {
                    response.Headers.Append(HeaderNames.Vary, header);
                }

                return Task.CompletedTask;
            }, (context.Response, vary));
        }

        var list = string.Join(", ", supported);
        if (requested is null)
        {
            VersioningLog.Refused(logger, VersioningProblems.Required, set.Name, "none", list);
            return GatewayProblem.WriteExtendedAsync(context, StatusCodes.Status400BadRequest, VersioningProblems.Required,
                "The request names no API version.", $"Name one of {list} {where}.", json => WriteSupported(json, supported));
        }

        var printable = Model.PrintableText.Of(requested);
        VersioningLog.Refused(logger, VersioningProblems.Unsupported, set.Name, "'" + printable + "'", list);
        return GatewayProblem.WriteExtendedAsync(context, StatusCodes.Status400BadRequest, VersioningProblems.Unsupported,
            "The API version is not supported.", $"Version '{printable}' is not served here; supported: {list} (named {where}).", json =>
            {
                json.WriteString("requestedVersion", requested);
                WriteSupported(json, supported);
            });
    }

    private static void WriteSupported(System.Text.Json.Utf8JsonWriter json, IReadOnlyList<string> supported)
    {
        json.WriteStartArray("supportedVersions");
        foreach (var version in supported)
        {
            json.WriteStringValue(version);
        }

        json.WriteEndArray();
    }

    private static bool IsPreflight(HttpRequest request) =>
        HttpMethods.IsOptions(request.Method) && request.Headers.ContainsKey(HeaderNames.Origin)
        && request.Headers.ContainsKey(HeaderNames.AccessControlRequestMethod);

    private static bool Varies(StringValues vary, string header)
    {
        foreach (var value in vary)
        {
            foreach (var item in (value ?? "").Split(',', StringSplitOptions.TrimEntries))
            {
                if (item == "*" || item.Equals(header, StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
            }
        }

        return false;
    }
}
