using System.Collections.Frozen;
using FuncGateway.Model;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Net.Http.Headers;

namespace FuncGateway.Transforms;

/// <summary>What a route's transforms are checked against when they are compiled.</summary>
/// <param name="RouteParameters">The parameters of the route's <c>Path</c> (<c>{Route:…}</c> must name one); null: not checked.</param>
/// <param name="CredentialQueryParameters">The route's own credential query parameters (token, API key).</param>
/// <param name="Time">The clock of <c>{Timestamp}</c>.</param>
internal sealed record TransformScope(IReadOnlyCollection<string>? RouteParameters, IReadOnlyCollection<string> CredentialQueryParameters, TimeProvider Time)
{
    /// <summary>Where body transforms log why they could not apply.</summary>
    public ILogger Logger { get; init; } = NullLogger.Instance;

    /// <summary>For checking a list on its own: no route to check parameters against.</summary>
    public static TransformScope Unbound { get; } = new(null, [], TimeProvider.System);

    /// <summary>The scope of a route with this path template and these credential query parameters (null entries ignored).</summary>
    public static TransformScope For(string? path, IEnumerable<string?> credentialQueryParameters, TimeProvider time) =>
        new(RouteParametersOf(path), [.. credentialQueryParameters.OfType<string>()], time);

    private static string[]? RouteParametersOf(string? path)
    {
        if (path is null)
        {
            return null;
        }

        try
        {
            return [.. RoutePatternFactory.Parse(path).Parameters.Select(static p => p.Name)];
        }
        catch (RoutePatternException)
        {
            // Routing rejects the template with its own reason.
            return null;
        }
    }
}

/// <summary>
/// Validates a route's <c>Transforms</c> list in full and compiles it into request and response transforms, once per
/// snapshot. Every problem is reported with the item's index; any problem rejects the row.
/// </summary>
internal static class TransformCompiler
{
    /// <summary>At most this many items per route.</summary>
    public const int MaxTransforms = 100;

    private const string Set = "Set";
    private const string Append = "Append";
    private const string SetIfMissing = "SetIfMissing";
    private const string To = "To";
    private const string IfMediaType = "IfMediaType";
    private const string UnlessRole = "UnlessRole";
    private const string UnlessScope = "UnlessScope";
    private const string Meta = "Meta";
    private const string Value = "Value";
    private const string Namespace = "Namespace";
    private const string Version = "Version";
    private const string Action = "Action";
    private const string OmitRoot = "OmitRoot";

    private static readonly string[] HeaderValueMembers = [Set, Append, SetIfMissing];

    /// <summary>Each kind: its key member (whose value names the target) and the other members it takes.</summary>
    private static readonly FrozenDictionary<string, string[]> Kinds = new Dictionary<string, string[]>(StringComparer.OrdinalIgnoreCase)
    {
        [TransformKinds.RequestHeader] = HeaderValueMembers,
        [TransformKinds.RequestHeaderRemove] = [],
        [TransformKinds.RequestHeaderRename] = [To],
        [TransformKinds.QueryParameter] = [Set],
        [TransformKinds.QueryParameterRemove] = [],
        [TransformKinds.QueryParameterRename] = [To],
        [TransformKinds.HttpMethodChange] = [Set],
        [TransformKinds.ResponseHeader] = HeaderValueMembers,
        [TransformKinds.ResponseHeaderRemove] = [],
        [TransformKinds.ResponseContentType] = [IfMediaType],
        [TransformKinds.ResponseStatus] = [Set],
        [TransformKinds.ResponseBodyRemove] = [UnlessRole, UnlessScope],
        [TransformKinds.ResponseProblem] = [],
        [TransformKinds.ResponseEnvelope] = [Meta],
        [TransformKinds.RequestBodyMove] = [To],
        [TransformKinds.RequestBodyDefault] = [Value],
        [TransformKinds.RequestBodyRemove] = [],
        [TransformKinds.RequestBodyTemplate] = [],
        [TransformKinds.RequestJsonToXml] = [Namespace],
        [TransformKinds.SoapOperation] = [Namespace, Version, Action],
        [TransformKinds.ResponseBodyTemplate] = [],
        [TransformKinds.ResponseXmlToJson] = [OmitRoot],
        [TransformKinds.ResponseJsonToXml] = [Namespace],
    }.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// Compiles <paramref name="items"/> into <paramref name="request"/> and <paramref name="response"/> (in list
    /// order; every <c>ResponseStatus</c> item goes into one map, placed where the first one is).
    /// </summary>
    public static void Compile(
        IReadOnlyList<TransformDefinition> items,
        TransformScope scope,
        List<string> errors,
        List<GatewayRequestTransform> request,
        List<GatewayResponseTransform> response)
    {
        if (items.Count > MaxTransforms)
        {
            errors.Add($"Transforms has {items.Count} items; at most {MaxTransforms} are allowed.");
            return;
        }

        Dictionary<int, int>? statusMap = null;
        List<ResponseJsonOperation>? bodyOperations = null;
        var bodies = new BodyListCompiler(scope, errors);
        var methodsChanged = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < items.Count; i++)
        {
            var item = items[i];
            var where = $"Transforms[{i}]";
            if (item is null)
            {
                // JSON null in the list: the serializer gives it as is, whatever the element type says.
                errors.Add($"{where}: is null; each item is an object naming one transform.");
                continue;
            }

            if (FindKind(item, where, errors) is not { } kind)
            {
                continue;
            }

            var target = item[kind]!;
            where = $"Transforms[{i}] ({kind} '{PrintableText.Of(target)}')";
            if (!CheckMembers(item, kind, where, errors))
            {
                continue;
            }

            switch (kind)
            {
                case TransformKinds.RequestHeader:
                case TransformKinds.ResponseHeader:
                    AddHeaderValue(item, kind == TransformKinds.RequestHeader, target, where, scope, errors, request, response);
                    break;
                case TransformKinds.RequestHeaderRemove:
                case TransformKinds.ResponseHeaderRemove:
                    var isRequest = kind == TransformKinds.RequestHeaderRemove;
                    if (CheckHeaderName(target, HeaderOperation.Remove, ValueSource.Constant, isRequest, where, errors))
                    {
                        if (isRequest)
                        {
                            request.Add(new RequestHeaderRemoveTransform(target));
                        }
                        else
                        {
                            response.Add(new ResponseHeaderRemoveTransform(target));
                        }
                    }

                    break;
                case TransformKinds.RequestHeaderRename:
                    if (RenameTarget(item, target, "header", where, errors, to =>
                            CheckHeaderName(target, HeaderOperation.RenameFrom, ValueSource.Client, isRequest: true, where, errors)
                            & CheckHeaderName(to, HeaderOperation.RenameTo, TransformRules.IsGatewayWritten(target) ? ValueSource.Gateway : ValueSource.Client,
                                isRequest: true, where, errors)) is { } header)
                    {
                        request.Add(new RequestHeaderRenameTransform(target, header));
                    }

                    break;
                case TransformKinds.QueryParameter:
                    AddQuerySet(item, target, where, scope, errors, request);
                    break;
                case TransformKinds.QueryParameterRemove:
                    if (CheckQueryName(target, scope, mayBeCredential: true, where, errors))
                    {
                        request.Add(new QueryParameterRemoveTransform(target));
                    }

                    break;
                case TransformKinds.QueryParameterRename:
                    if (RenameTarget(item, target, "parameter", where, errors, to =>
                            CheckQueryName(target, scope, mayBeCredential: false, where, errors)
                            & CheckQueryName(to, scope, mayBeCredential: false, where, errors)) is { } parameter)
                    {
                        request.Add(new QueryParameterRenameTransform(target, parameter));
                    }

                    break;
                case TransformKinds.HttpMethodChange:
                    AddMethodChange(item, target, where, methodsChanged, errors, request);
                    break;
                case TransformKinds.ResponseContentType:
                    AddContentType(item, target, where, errors, response);
                    break;
                case TransformKinds.ResponseStatus:
                    if (statusMap is null)
                    {
                        statusMap = [];
                        response.Add(new DeferredStatusTransform());
                    }

                    AddStatus(item, target, where, statusMap, errors);
                    break;
                case TransformKinds.ResponseProblem:
                    if (ParseStatusSet(target, where, errors) is { } applies)
                    {
                        response.Add(new ResponseProblemTransform(applies));
                    }

                    break;
                case TransformKinds.ResponseEnvelope:
                    if (bodyOperations is null)
                    {
                        bodyOperations = [];
                        response.Add(new DeferredBodyTransform());
                    }

                    var meta = item[Meta]?.Trim() ?? "meta";
                    if (meta.Length == 0 || string.Equals(meta, target.Trim(), StringComparison.Ordinal))
                    {
                        errors.Add($"{where}: Meta must be a member name other than the envelope's data member.");
                    }
                    else
                    {
                        bodyOperations.Add(new ResponseEnvelopeOperation(target.Trim(), meta, scope.Time));
                    }

                    bodies.ResponseJsonItem(i, where);

                    break;
                case TransformKinds.ResponseBodyRemove:
                case TransformKinds.ResponseBodyTemplate:
                    if (bodyOperations is null)
                    {
                        bodyOperations = [];
                        response.Add(new DeferredBodyTransform());
                    }

                    bodies.ResponseJsonItem(i, where);
                    if (kind == TransformKinds.ResponseBodyRemove)
                    {
                        AddBodyRemove(item, target, where, bodyOperations, errors);
                    }
                    else if (bodies.Template(target, where) is { } template)
                    {
                        bodyOperations.Add(new ResponseBodyTemplateOperation(template, scope.Logger));
                    }

                    break;
                default:
                    bodies.Add(kind, item, target, i, where, request, response);
                    break;
            }
        }

        bodies.Finish(request);

        if (statusMap is not null)
        {
            // The map is complete now: put it where the first ResponseStatus item was.
            var index = response.FindIndex(static t => t is DeferredStatusTransform);
            response[index] = new ResponseStatusTransform(statusMap.ToFrozenDictionary());
        }

        if (bodyOperations is not null)
        {
            // One buffered transform for every body operation, where the first one was: the body is parsed once.
            var index = response.FindIndex(static t => t is DeferredBodyTransform);
            response[index] = new ResponseJsonBodyTransform([.. bodyOperations], scope.Logger);
        }

        if (bodyOperations is not null || response.Any(static t => t is ResponseFormatTransform))
        {
            // The gateway transforms whole, plain bodies: it asks for identity and no range, last, so no earlier header transform undoes it.
            request.Add(new WholePlainBodyTransform());
        }
    }

    private static string? FindKind(TransformDefinition item, string where, List<string> errors)
    {
        string? kind = null;
        foreach (var (name, _) in item.Members)
        {
            if (!Kinds.TryGetValue(name, out _))
            {
                continue;
            }

            var canonical = Kinds.Keys.First(k => string.Equals(k, name, StringComparison.OrdinalIgnoreCase));
            if (kind is not null)
            {
                errors.Add($"{where}: names two kinds of transform ({kind} and {canonical}); write one object per transform.");
                return null;
            }

            kind = canonical;
        }

        if (kind is null)
        {
            errors.Add($"{where}: is not a known transform. Each object names one of {string.Join(", ", Kinds.Keys.Order(StringComparer.Ordinal))}.");
        }

        return kind;
    }

    private static bool CheckMembers(TransformDefinition item, string kind, string where, List<string> errors)
    {
        var allowed = Kinds[kind];
        var ok = true;
        foreach (var (name, _) in item.Members)
        {
            if (!string.Equals(name, kind, StringComparison.OrdinalIgnoreCase) && !allowed.Contains(name, StringComparer.OrdinalIgnoreCase))
            {
                errors.Add(allowed.Length == 0
                    ? $"{where}: unknown member '{PrintableText.Of(name)}'; {kind} takes no other member."
                    : $"{where}: unknown member '{PrintableText.Of(name)}'; {kind} takes {string.Join(", ", allowed)}.");
                ok = false;
            }
        }

        if (string.IsNullOrWhiteSpace(item[kind]))
        {
            errors.Add($"{where}: {kind} needs a name.");
            ok = false;
        }

        return ok;
    }

    private static string? Required(TransformDefinition item, string member, string where, List<string> errors)
    {
        var value = item[member];
        if (string.IsNullOrWhiteSpace(value))
        {
            errors.Add($"{where}: needs '{member}'.");
            return null;
        }

        return value.Trim();
    }

    /// <summary>The rename's <c>To</c>, when it is given, both names pass <paramref name="check"/> and they differ; else null.</summary>
    private static string? RenameTarget(TransformDefinition item, string from, string what, string where, List<string> errors, Func<string, bool> check)
    {
        if (Required(item, To, where, errors) is not { } to || !check(to))
        {
            return null;
        }

        if (string.Equals(from, to, StringComparison.OrdinalIgnoreCase))
        {
            errors.Add($"{where}: renames the {what} to itself.");
            return null;
        }

        return to;
    }

    private static void AddHeaderValue(
        TransformDefinition item,
        bool isRequest,
        string name,
        string where,
        TransformScope scope,
        List<string> errors,
        List<GatewayRequestTransform> request,
        List<GatewayResponseTransform> response)
    {
        var given = HeaderValueMembers.Where(m => item[m] is not null).ToArray();
        if (given.Length != 1)
        {
            errors.Add($"{where}: needs exactly one of Set, Append or SetIfMissing.");
            return;
        }

        var operation = given[0] switch
        {
            Set => HeaderOperation.Set,
            Append => HeaderOperation.Append,
            _ => HeaderOperation.SetIfMissing,
        };
        if (ParseHeaderValue(item[given[0]]!, $"{where} {given[0]}", scope, errors) is not { } template)
        {
            return;
        }

        if (!CheckHeaderName(name, operation, template.Source, isRequest, where, errors))
        {
            return;
        }

        if (TransformRules.IsCookieHeader(name, isRequest) || (!isRequest && TransformRules.IsUrlBearingResponseHeader(name)))
        {
            // A cookie's attributes (and the other cookies of a Cookie header) are the operator's literal text: a value
            // from a claim, a header or the query cannot add "; Domain=…" or a cookie of its own. Likewise the URL of a
            // Location or Refresh, the targets of a Link, the sources of a CSP: a caller's value stays inside the
            // operator's URL ("/users/{UserId}") and never becomes one ("https://evil.example", "//evil.example").
            template = template.EscapingVariables();
        }

        if (isRequest)
        {
            request.Add(new RequestHeaderTransform(name, operation, template));
        }
        else
        {
            response.Add(new ResponseHeaderTransform(name, operation, template));
        }
    }

    private static ValueTemplate? ParseHeaderValue(string text, string where, TransformScope scope, List<string> errors)
    {
        if (!HeaderValueText.IsValid(text))
        {
            errors.Add($"{where}: the value may hold only visible ASCII characters, spaces and tabs (no CR, LF or other control characters).");
            return null;
        }

        return ValueTemplate.Parse(text, where, scope.RouteParameters, scope.Time, errors);
    }

    private static bool CheckHeaderName(string name, HeaderOperation operation, ValueSource source, bool isRequest, string where, List<string> errors)
    {
        if (!HttpSyntax.IsToken(name))
        {
            errors.Add($"{where}: '{PrintableText.Of(name)}' is not a valid header name.");
            return false;
        }

        var refusal = isRequest ? TransformRules.CheckRequestHeader(name, operation, source) : TransformRules.CheckResponseHeader(name, operation, source);
        if (refusal is not null)
        {
            errors.Add($"{where}: {refusal}");
            return false;
        }

        return true;
    }

    private static void AddQuerySet(TransformDefinition item, string name, string where, TransformScope scope, List<string> errors, List<GatewayRequestTransform> request)
    {
        var text = item[Set];
        if (text is null)
        {
            errors.Add($"{where}: needs 'Set'.");
            return;
        }

        if (!CheckQueryName(name, scope, mayBeCredential: false, where, errors)
            || ValueTemplate.Parse(text, where + " Set", scope.RouteParameters, scope.Time, errors) is not { } template)
        {
            return;
        }

        request.Add(new QueryParameterSetTransform(name, template));
    }

    private static bool CheckQueryName(string name, TransformScope scope, bool mayBeCredential, string where, List<string> errors)
    {
        if (name.Any(char.IsControl))
        {
            errors.Add($"{where}: '{PrintableText.Of(name)}' is not a valid query parameter name (control characters).");
            return false;
        }

        if (!mayBeCredential && TransformRules.IsCredentialQueryParameter(name, scope.CredentialQueryParameters))
        {
            errors.Add($"{where}: '{name}' is a credential parameter the gateway removes (code, access_token, the route's TokenQueryParameter/ApiKeyQueryParameter); "
                + "it can only be removed.");
            return false;
        }

        return true;
    }

    private static void AddMethodChange(TransformDefinition item, string from, string where, HashSet<string> changed, List<string> errors, List<GatewayRequestTransform> request)
    {
        var to = Required(item, Set, where, errors);
        if (to is null)
        {
            return;
        }

        var ok = true;
        foreach (var method in (ReadOnlySpan<string>)[from, to])
        {
            if (!HttpSyntax.IsToken(method))
            {
                errors.Add($"{where}: '{PrintableText.Of(method)}' is not a valid HTTP method.");
                ok = false;
            }
            else if (string.Equals(method, "CONNECT", StringComparison.OrdinalIgnoreCase))
            {
                errors.Add($"{where}: CONNECT cannot be changed to or from.");
                ok = false;
            }
        }

        if (ok && (string.Equals(to, "HEAD", StringComparison.OrdinalIgnoreCase) || string.Equals(to, "TRACE", StringComparison.OrdinalIgnoreCase)))
        {
            // HEAD's answer has the head of a GET without its body, so the client's request would get a Content-Length
            // and no bytes; TRACE's answer echoes what the gateway added (identity headers, signature, values the route sets).
            errors.Add($"{where}: the upstream cannot be sent {to.ToUpperInvariant()}: its answer is not an answer to the client's method.");
            ok = false;
        }

        if (!ok)
        {
            return;
        }

        if (string.Equals(from, to, StringComparison.OrdinalIgnoreCase))
        {
            errors.Add($"{where}: changes {from} to itself.");
        }
        else if (!changed.Add(from))
        {
            errors.Add($"{where}: {from.ToUpperInvariant()} is already changed by an earlier HttpMethodChange.");
        }
        else
        {
            request.Add(new HttpMethodChangeTransform(from.ToUpperInvariant(), new HttpMethod(to.ToUpperInvariant())));
        }
    }

    private static void AddContentType(TransformDefinition item, string value, string where, List<string> errors, List<GatewayResponseTransform> response)
    {
        value = value.Trim();
        if (!HeaderValueText.IsValid(value) || !MediaTypeHeaderValue.TryParse(value, out var parsed) || parsed.MediaType.Value?.Contains('*') != false)
        {
            errors.Add($"{where}: '{PrintableText.Of(value)}' is not a media type such as application/json; charset=utf-8.");
            return;
        }

        var mediaTypes = new List<string>();
        var ifMissing = false;
        if (item[IfMediaType] is { } list)
        {
            foreach (var entry in list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                if (string.Equals(entry, "missing", StringComparison.OrdinalIgnoreCase))
                {
                    ifMissing = true;
                }
                else if (entry.Contains(';') || !MediaTypeHeaderValue.TryParse(entry, out _))
                {
                    errors.Add($"{where}: IfMediaType '{PrintableText.Of(entry)}' is not a media type without parameters (e.g. text/plain) or 'missing'.");
                }
                else
                {
                    mediaTypes.Add(entry);
                }
            }

            if (mediaTypes.Count == 0 && !ifMissing)
            {
                errors.Add($"{where}: IfMediaType is empty; leave it out to set Content-Type on every response.");
            }
        }

        response.Add(new ResponseContentTypeTransform(value, [.. mediaTypes], ifMissing));
    }

    private static void AddStatus(TransformDefinition item, string fromText, string where, Dictionary<int, int> map, List<string> errors)
    {
        var toText = Required(item, Set, where, errors);
        var from = ParseStatus(fromText, where, errors);
        var to = toText is null ? null : ParseStatus(toText, where, errors);
        if (from is null || to is null)
        {
            return;
        }

        if (from == to)
        {
            errors.Add($"{where}: maps {from} to itself.");
        }
        else if (!map.TryAdd(from.Value, to.Value))
        {
            errors.Add($"{where}: {from} is already mapped to {map[from.Value]}.");
        }
    }

    private static int? ParseStatus(string text, string where, List<string> errors)
    {
        if (!int.TryParse(text.Trim(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var status) || status is < 200 or > 599)
        {
            errors.Add($"{where}: '{PrintableText.Of(text)}' is not a status code in 200–599 (1xx cannot be mapped to or from).");
            return null;
        }

        if (!ResponseContentTypeTransform.StatusMayHaveBody(status) || status == 205)
        {
            errors.Add($"{where}: {status} is a status without a body; mapping to or from it would make the response's body inconsistent.");
            return null;
        }

        return status;
    }

    private static void AddBodyRemove(TransformDefinition item, string target, string where, List<ResponseJsonOperation> operations, List<string> errors)
    {
        if (JsonPointer.Parse(target.Trim(), out var error) is not { } pointer)
        {
            errors.Add($"{where}: {error}");
            return;
        }

        var roles = Names(item[UnlessRole], UnlessRole, where, errors);
        var scopes = Names(item[UnlessScope], UnlessScope, where, errors);
        if (roles is not null && scopes is not null)
        {
            operations.Add(new ResponseBodyRemoveOperation(pointer, roles, scopes));
        }
    }

    /// <summary>A comma-separated list of <c>4xx</c>, <c>5xx</c> and error statuses (400–599), or null (with an error).</summary>
    private static Func<int, bool>? ParseStatusSet(string list, string where, List<string> errors)
    {
        bool client = false, server = false;
        var exact = new HashSet<int>();
        foreach (var entry in list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (string.Equals(entry, "4xx", StringComparison.OrdinalIgnoreCase))
            {
                client = true;
            }
            else if (string.Equals(entry, "5xx", StringComparison.OrdinalIgnoreCase))
            {
                server = true;
            }
            else if (int.TryParse(entry, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var status) && status is >= 400 and <= 599)
            {
                exact.Add(status);
            }
            else
            {
                errors.Add($"{where}: '{PrintableText.Of(entry)}' is not 4xx, 5xx or an error status in 400–599.");
                return null;
            }
        }

        var set = exact.ToFrozenSet();
        return status => (client && status is >= 400 and < 500) || (server && status is >= 500 and < 600) || set.Contains(status);
    }

    /// <summary>A comma-separated list of role or scope names (compared exactly); empty when absent, null when invalid.</summary>
    private static string[]? Names(string? list, string member, string where, List<string> errors)
    {
        if (list is null)
        {
            return [];
        }

        var names = list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (names.Length == 0 || names.Any(static n => n.Any(char.IsControl)))
        {
            errors.Add($"{where}: {member} must be a comma-separated list of names.");
            return null;
        }

        return names;
    }

    /// <summary>Holds the place of the body transform until every item is read.</summary>
    private sealed class DeferredBodyTransform : GatewayResponseTransform
    {
        public override ValueTask ApplyAsync(GatewayResponseTransformContext context) => throw new InvalidOperationException("Replaced when compiled.");
    }

    /// <summary>Holds the place of the status map until every item is read.</summary>
    private sealed class DeferredStatusTransform : GatewayResponseTransform
    {
        public override ValueTask ApplyAsync(GatewayResponseTransformContext context) => throw new InvalidOperationException("Replaced when compiled.");
    }
}

/// <summary>The key member of each kind of transform.</summary>
internal static class TransformKinds
{
    public const string RequestHeader = "RequestHeader";
    public const string RequestHeaderRemove = "RequestHeaderRemove";
    public const string RequestHeaderRename = "RequestHeaderRename";
    public const string QueryParameter = "QueryParameter";
    public const string QueryParameterRemove = "QueryParameterRemove";
    public const string QueryParameterRename = "QueryParameterRename";
    public const string HttpMethodChange = "HttpMethodChange";
    public const string ResponseHeader = "ResponseHeader";
    public const string ResponseHeaderRemove = "ResponseHeaderRemove";
    public const string ResponseContentType = "ResponseContentType";
    public const string ResponseStatus = "ResponseStatus";
    public const string ResponseBodyRemove = "ResponseBodyRemove";
    public const string ResponseProblem = "ResponseProblem";
    public const string ResponseEnvelope = "ResponseEnvelope";
    public const string RequestBodyMove = "RequestBodyMove";
    public const string RequestBodyDefault = "RequestBodyDefault";
    public const string RequestBodyRemove = "RequestBodyRemove";
    public const string RequestBodyTemplate = "RequestBodyTemplate";
    public const string RequestJsonToXml = "RequestJsonToXml";
    public const string SoapOperation = "SoapOperation";
    public const string ResponseBodyTemplate = "ResponseBodyTemplate";
    public const string ResponseXmlToJson = "ResponseXmlToJson";
    public const string ResponseJsonToXml = "ResponseJsonToXml";
}
