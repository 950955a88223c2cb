using System.Buffers;
using FuncGateway.Diagnostics;
using FuncGateway.Model;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Logging;

namespace FuncGateway.Validation;

/// <summary>
/// Checks a request against its route's <c>Validation</c> after authentication and rate limits, before anything is
/// sent upstream: 415 for a body media type the route does not take, 413 for a body over the route's limit, 400
/// <c>validation_failed</c> listing every broken rule (query and header rules, repeated parameters, JSON limits, the
/// schema, injection signatures). A JSON body the route checks is buffered up to the route's limit, then forwarded
/// from the buffer with its exact <c>Content-Length</c>; other bodies are never read here and keep streaming.
/// </summary>
internal sealed class ValidationStep(ILogger<ValidationStep> logger) : IGatewayStep
{
    public GatewayStepOrder Order => GatewayStepOrder.Validation;

    public string ActivityName => GatewayTelemetry.ValidationActivityName;

    public bool AppliesTo(CompiledRoute route) => route.GetFeature<RouteValidation>() is not null;

    public async ValueTask<bool> InvokeAsync(HttpContext context, GatewayRequestFeature feature)
    {
        var validation = feature.Route.GetFeature<RouteValidation>();
        if (validation is null)
        {
            return true;
        }

        // Forwarding enforces the limit on bodies this step does not read (it streams them).
        if (validation.MaxBodyBytes is { } max)
        {
            feature.MaxRequestBodySizeBytes = max;
        }

        var request = context.Request;
        var routeId = feature.Route.Definition.Id;
        var hasBody = RequestBodyReader.HasBody(context);
        var isJson = false;
        string? charset = null;
        if (hasBody && !validation.AcceptsContentType(request.ContentType, out isJson, out charset))
        {
            ValidationLog.UnsupportedMediaType(logger, routeId, StatusCodes.Status415UnsupportedMediaType);
            await GatewayProblem.WriteAsync(context, StatusCodes.Status415UnsupportedMediaType, ValidationProblems.UnsupportedMediaType,
                "The route does not accept this media type.", "Accepted: " + string.Join(", ", validation.ContentTypes.Select(static t => t.ToString())) + ".");
            return false;
        }

        var violations = new ViolationList();
        CheckParameters(request, validation, violations);
        if (validation.Injection is { } screen)
        {
            Screen(request, screen, violations);
        }

        if (hasBody && isJson && validation.ValidatesJsonBodies && charset is not null && !IsUtf8(charset))
        {
            // The checks read JSON as UTF-8 (RFC 8259 §8.1); an upstream that honours another charset would read another document.
            ValidationLog.UnsupportedMediaType(logger, routeId, StatusCodes.Status415UnsupportedMediaType);
            await GatewayProblem.WriteAsync(context, StatusCodes.Status415UnsupportedMediaType, ValidationProblems.UnsupportedMediaType,
                "The route checks JSON bodies, which are UTF-8.", $"The body declares charset '{PrintableText.Of(charset)}'; send UTF-8 (no charset, or charset=utf-8).");
            return false;
        }

        if (hasBody && isJson && validation.ValidatesJsonBodies && IsEncoded(request.Headers.ContentEncoding))
        {
            // The checks would read the compressed bytes, and an upstream that decompresses would read another document.
            ValidationLog.UnsupportedMediaType(logger, routeId, StatusCodes.Status415UnsupportedMediaType);
            await GatewayProblem.WriteAsync(context, StatusCodes.Status415UnsupportedMediaType, ProblemCodes.RequestBodyEncoded,
                "The request body is compressed and cannot be validated.", "The route checks JSON bodies; send them without Content-Encoding.");
            return false;
        }

        if (hasBody && isJson && validation.ValidatesJsonBodies)
        {
            var limit = validation.BufferLimit;
            if (request.ContentLength > limit)
            {
                await GatewayProblem.RequestTooLargeAsync(context, limit);
                return false;
            }

            var (body, failure) = await RequestBodyReader.ReadAsync(context, feature, limit);
            if (failure != RequestBodyFailure.None)
            {
                await (failure switch
                {
                    RequestBodyFailure.TooLarge => GatewayProblem.RequestTooLargeAsync(context, limit),
                    RequestBodyFailure.TooSlow => GatewayProblem.RequestBodyTooSlowAsync(context),
                    _ => GatewayProblem.WriteAsync(context, StatusCodes.Status400BadRequest, ProblemCodes.BadRequest, "The request body could not be read from the client."),
                });
                return false;
            }

            JsonBodyCheck.Check(body, validation, violations);

            // The upstream gets the very bytes that were checked, with their exact length.
            RequestBodyReader.ReplaceBody(request, body);
        }
        else if (!hasBody && validation.Schema is not null && (HttpMethods.IsPost(request.Method) || HttpMethods.IsPut(request.Method) || HttpMethods.IsPatch(request.Method)))
        {
            violations.Add("body", "", "required", $"A JSON body is required (schema '{validation.SchemaName}').");
        }

        if (violations.Count == 0)
        {
            if (validation.Query.Length > 0 && request.QueryString.Value is { } query && query.Contains(';'))
            {
                // A server that reads ';' as a separator (Python before 3.9.2, some Java stacks) would find "page" in
                // "x=1;page=evil", which was checked as part of x: such a ';' reaches the upstream as %3B.
                request.QueryString = QueryStringEditor.Shield(request.QueryString, validation.QueryNames);
            }

            return true;
        }

        var first = violations.Items[0];
        ValidationLog.Refused(logger, routeId, violations.Count, first.In, first.Rule);
        await GatewayProblem.WriteExtendedAsync(context, StatusCodes.Status400BadRequest, ValidationProblems.ValidationFailed,
            "The request does not satisfy the route's validation rules.", $"{violations.Count} violation(s); see violations.", violations.WriteTo);
        return false;
    }

    private static void CheckParameters(HttpRequest request, RouteValidation validation, ViolationList violations)
    {
        if (validation.RejectRepeated)
        {
            foreach (var (name, values) in request.Query)
            {
                if (values.Count > 1)
                {
                    violations.Add("query", name, "repeated", $"The parameter is given {values.Count} times; the route accepts it once.");
                }
            }
        }

        foreach (var rule in validation.Query)
        {
            // Names are case-sensitive: a required parameter must be there under its own name (an upstream that tells
            // "Q" from "q" would not find it otherwise). The value rules hold for every spelling of the name, because an
            // upstream that ignores case reads them all.
            var values = request.Query.TryGetValue(rule.Name, out var found) ? found : default;
            if (rule.Required && values.Count > 0 && !HasParameter(request.QueryString, rule.Name))
            {
                violations.Add("query", rule.Name, "required", "The parameter is required (names are case-sensitive).");
                continue;
            }

            Check("query", rule, values, validation.RejectRepeated, violations);
        }

        if (validation.Query.Length > 0 && request.QueryString.Value is { } raw && raw.AsSpan().IndexOfAny(MangledNameSources) >= 0)
        {
            CheckMangledNames(request.Query, validation, violations);
        }

        foreach (var rule in validation.Headers)
        {
            var values = request.Headers.TryGetValue(rule.Name, out var found) ? found : default;
            Check("header", rule, values, validation.RejectRepeated, violations);
            CheckUnderscoreSpellings(request.Headers, rule, values.Count, validation.RejectRepeated, violations);
        }
    }

    private static readonly SearchValues<char> MangledNameCharacters = SearchValues.Create(" .[");

    // What a raw query needs for a decoded name to hold one of them: most queries have none, and skip the walk.
    private static readonly SearchValues<char> MangledNameSources = SearchValues.Create(" .[+%");

    /// <summary>
    /// The query rules for the names other parsers read as a ruled parameter: PHP reads <c>a.b</c>, <c>a b</c>
    /// (<c>a+b</c>) and <c>a[b</c> as <c>a_b</c>, so their values are checked as <c>a_b</c>'s (and count as repeats
    /// under <c>rejectRepeated</c>); PHP, Rails and qs read <c>id[]</c> and <c>id[x]</c> as an array or object named
    /// <c>id</c>, which is never the single value a rule describes, so they are refused. Only names holding a space, a
    /// dot or a bracket are looked at: nothing is allocated for the others.
    /// </summary>
    private static void CheckMangledNames(IQueryCollection query, RouteValidation validation, ViolationList violations)
    {
        int[]? spellings = null;
        foreach (var (name, values) in query)
        {
            if (name.AsSpan().IndexOfAny(MangledNameCharacters) < 0)
            {
                continue;
            }

            var baseName = name.AsSpan().TrimStart(' ');
            var open = baseName.IndexOf('[');
            var isArray = open >= 0 && baseName[open..].Contains(']');
            if (isArray)
            {
                baseName = baseName[..open];
            }

            for (var i = 0; i < validation.Query.Length; i++)
            {
                var rule = validation.Query[i];
                if (!IsMangledSpelling(baseName, rule.Name))
                {
                    continue;
                }

                if (isArray)
                {
                    violations.Add("query", rule.Name, "type", "The parameter is also sent with brackets, which PHP, Rails and qs read as an array or object; the route takes a single value.");
                    continue;
                }

                spellings ??= new int[validation.Query.Length];
                spellings[i] += values.Count;
                if (validation.RejectRepeated && spellings[i] + (query.TryGetValue(rule.Name, out var own) ? own.Count : 0) > 1)
                {
                    violations.Add("query", rule.Name, "repeated", "The parameter is also given under a name PHP reads as it ('.', ' ' or '[' for '_'); the route accepts it once.");
                }

                Check("query", rule, values, validation.RejectRepeated, violations);
            }
        }
    }

    /// <summary>Whether <paramref name="name"/>, with ' ', '.' and '[' read as '_' (as PHP does), is <paramref name="ruled"/> in any case.</summary>
    private static bool IsMangledSpelling(ReadOnlySpan<char> name, string ruled)
    {
        if (name.Length != ruled.Length)
        {
            return false;
        }

        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i] is ' ' or '.' or '[' ? '_' : name[i];
            if (char.ToUpperInvariant(c) != char.ToUpperInvariant(ruled[i]))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// The rule's value checks for the header's <c>_</c> spellings (<c>X_Request_Id</c> for <c>X-Request-Id</c>),
    /// which CGI-style upstreams read as the same header; with <c>rejectRepeated</c> they count as repeats.
    /// </summary>
    private static void CheckUnderscoreSpellings(IHeaderDictionary headers, ParameterRule rule, int count, bool rejectRepeated, ViolationList violations)
    {
        if (rule.UnderscoreSpellings is { } spellings)
        {
            foreach (var spelling in spellings)
            {
                if (headers.TryGetValue(spelling, out var values))
                {
                    CheckSpelling(rule, values, count += values.Count, rejectRepeated, violations);
                }
            }

            return;
        }

        foreach (var (name, values) in headers)
        {
            if (rule.IsUnderscoreSpelling(name))
            {
                CheckSpelling(rule, values, count += values.Count, rejectRepeated, violations);
            }
        }
    }

    private static void CheckSpelling(ParameterRule rule, Microsoft.Extensions.Primitives.StringValues values, int countSoFar, bool rejectRepeated, ViolationList violations)
    {
        if (rejectRepeated && countSoFar > 1 && countSoFar - values.Count >= 1)
        {
            violations.Add("header", rule.Name, "repeated", "The header is also given with '_' for '-'; the route accepts it once.");
        }

        Check("header", rule, values, rejectRepeated, violations);
    }

    private static bool IsEncoded(Microsoft.Extensions.Primitives.StringValues encodings)
    {
        foreach (var encoding in encodings)
        {
            if (!string.Equals(encoding?.Trim(), "identity", StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsUtf8(string charset) =>
        charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase) || charset.Equals("utf8", StringComparison.OrdinalIgnoreCase);

    /// <summary>The query holds a parameter named exactly <paramref name="name"/> once decoded.</summary>
    private static bool HasParameter(QueryString query, string name)
    {
        if (query.Value is not { } text)
        {
            return false;
        }

        foreach (var pair in new QueryStringEnumerable(text))
        {
            if (pair.DecodeName().Span.SequenceEqual(name))
            {
                return true;
            }
        }

        return false;
    }

    private static void Check(string where, ParameterRule rule, Microsoft.Extensions.Primitives.StringValues values, bool rejectRepeated, ViolationList violations)
    {
        if (values.Count == 0)
        {
            if (rule.Required)
            {
                violations.Add(where, rule.Name, "required", $"The {(where == "query" ? "parameter" : "header")} is required.");
            }

            return;
        }

        if (where == "header" && rejectRepeated && values.Count > 1)
        {
            violations.Add(where, rule.Name, "repeated", $"The header is given {values.Count} times; the route accepts it once.");
        }

        foreach (var value in values)
        {
            if (rule.Check(value ?? "") is { } broken)
            {
                violations.Add(where, rule.Name, broken.Rule, broken.Message);
                return;
            }
        }
    }

    private static void Screen(HttpRequest request, InjectionScreen screen, ViolationList violations)
    {
        screen.ScreenPath(request.Path.Value ?? "", violations);
        foreach (var (name, values) in request.Query)
        {
            foreach (var value in values)
            {
                screen.ScreenQuery(name, value ?? "", violations);
            }
        }

        foreach (var (name, values) in request.Headers)
        {
            foreach (var value in values)
            {
                screen.ScreenHeader(name, value ?? "", violations);
            }
        }
    }
}
