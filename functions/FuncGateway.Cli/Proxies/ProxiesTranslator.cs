using System.Text.Json;
using System.Text.RegularExpressions;
using FuncGateway.Authentication;
using FuncGateway.FixedResponses;
using FuncGateway.Model;
using FuncGateway.RouteGroups;
using FuncGateway.Transforms;
using Microsoft.AspNetCore.Http;

namespace FuncGateway.Cli.Proxies;

/// <summary>
/// Translates an Azure Functions Proxies file (<c>proxies.json</c>) into FuncGateway routes: each proxy becomes one
/// route of the same name, or is listed as untranslatable with every reason. What a proxy does that a route cannot is
/// never approximated silently. The format and the mapping are documented in docs/migrating-from-proxies.md.
/// </summary>
internal static partial class ProxiesTranslator
{
    /// <summary>The methods a <c>backend.request.method</c> override applies to when the proxy names none (every method).</summary>
    private static readonly string[] AllMethods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

    /// <summary>Reads and translates a proxies file; a file that is not a Proxies file is a <see cref="CliException"/> (exit 1).</summary>
    public static ProxiesTranslation Translate(string json, string source, IReadOnlyDictionary<string, string>? settings, string? settingsSource, ProxiesImportOptions options)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException ex)
        {
            throw new CliException(ExitCodes.InvalidInput, $"{source}: not valid JSON: {RegistryFile.Describe(ex)}");
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object
                || !document.RootElement.TryGetProperty("proxies", out var proxies) || proxies.ValueKind != JsonValueKind.Object)
            {
                throw new CliException(ExitCodes.InvalidInput, $"{source}: expected a Proxies file, an object with a \"proxies\" object ({{\"$schema\": ..., \"proxies\": {{\"name\": {{...}}}}}}).");
            }

            // A JSON reader keeps one member of a name given twice; which one the Functions host kept is not a guess to
            // make, and two routes of one id would not import. Compared ignoring case, as function names are.
            var counts = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
            foreach (var proxy in proxies.EnumerateObject())
            {
                counts[proxy.Name] = counts.GetValueOrDefault(proxy.Name) + 1;
            }

            var results = new List<ProxyResult>();
            foreach (var proxy in proxies.EnumerateObject())
            {
                var context = new ProxyContext(proxy.Name, settings, settingsSource);
                if (counts[proxy.Name] > 1)
                {
                    context.Errors.Add($"The file defines {counts[proxy.Name]} proxies named '{RegistryFormat.Printable(proxy.Name)}' (names compare ignoring case); "
                        + "Proxies kept only one of them. Keep the one you mean and remove or rename the others.");
                }

                var route = TranslateProxy(proxy.Value, context, options);
                results.Add(new ProxyResult(proxy.Name, context.Errors.Count == 0 ? route : null, context.Errors, context.Notes));
            }

            return new ProxiesTranslation(results);
        }
    }

    private static RouteDefinition? TranslateProxy(JsonElement proxy, ProxyContext context, ProxiesImportOptions options)
    {
        if (proxy.ValueKind != JsonValueKind.Object)
        {
            context.Errors.Add("A proxy must be a JSON object.");
            return null;
        }

        string? path = null;
        var methods = new List<string>();
        string? backendUri = null;
        var writtenBackendUri = "";
        var hasBackend = false;
        var disabled = false;
        JsonElement? requestOverrides = null;
        JsonElement? responseOverrides = null;
        foreach (var member in proxy.EnumerateObject())
        {
            switch (member.Name)
            {
                case "matchCondition" when member.Value.ValueKind == JsonValueKind.Object:
                    foreach (var condition in member.Value.EnumerateObject())
                    {
                        switch (condition.Name)
                        {
                            case "route" when condition.Value.ValueKind == JsonValueKind.String:
                                path = condition.Value.GetString();
                                break;
                            case "methods" when condition.Value.ValueKind == JsonValueKind.Array:
                                foreach (var method in condition.Value.EnumerateArray())
                                {
                                    if (method.ValueKind == JsonValueKind.String && !string.IsNullOrWhiteSpace(method.GetString()))
                                    {
                                        methods.Add(method.GetString()!.Trim().ToUpperInvariant());
                                    }
                                    else
                                    {
                                        context.Errors.Add($"matchCondition.methods holds {method.GetRawText()}; it must be an array of method names (strings such as \"GET\").");
                                    }
                                }

                                break;
                            default:
                                context.Errors.Add($"matchCondition.{condition.Name} is not a Proxies match condition this importer knows (route: a string, methods: an array).");
                                break;
                        }
                    }

                    break;
                case "backendUri" when member.Value.ValueKind == JsonValueKind.String:
                    hasBackend = true;
                    writtenBackendUri = member.Value.GetString()!;
                    backendUri = context.Resolve("backendUri", writtenBackendUri);
                    break;
                case "requestOverrides" when member.Value.ValueKind == JsonValueKind.Object:
                    requestOverrides = member.Value;
                    break;
                case "responseOverrides" when member.Value.ValueKind == JsonValueKind.Object:
                    responseOverrides = member.Value;
                    break;
                case "disabled" when member.Value.ValueKind is JsonValueKind.True or JsonValueKind.False:
                    disabled = member.Value.GetBoolean();
                    break;
                case "debug" or "desc":
                    context.Notes.Add($"'{member.Name}' has no counterpart and is left out.");
                    break;
                default:
                    context.Errors.Add($"'{member.Name}' is not a Proxies property this importer knows (matchCondition, backendUri, requestOverrides, responseOverrides, disabled, debug, desc), or has the wrong type.");
                    break;
            }
        }

        if (string.IsNullOrWhiteSpace(path))
        {
            context.Errors.Add("matchCondition.route is missing: every proxy needs a route template.");
            return null;
        }

        path = "/" + path.Trim().TrimStart('/');
        var parameters = RouteParameters(path);
        var transforms = new List<TransformDefinition>();
        string? upstream = null;
        string? upstreamPath = null;
        FixedResponseDefinition? mock = null;
        if (!hasBackend)
        {
            // A mock: the proxy answers by itself from its responseOverrides, which a fixed response does too.
            mock = TranslateMock(responseOverrides, parameters, context);
            if (requestOverrides is not null)
            {
                context.Notes.Add("requestOverrides are left out: without a backendUri there is no backend request to change.");
            }
        }
        else if (backendUri is not null)
        {
            TranslateBackend(backendUri, writtenBackendUri, parameters, context, transforms, out upstream, out upstreamPath);
        }

        if (requestOverrides is { } request && hasBackend)
        {
            TranslateRequestOverrides(request, methods, parameters, context, transforms);
        }

        if (responseOverrides is { } response && hasBackend)
        {
            TranslateResponseOverrides(response, context, transforms);
        }

        if (context.Errors.Count > 0 || (upstream is null && mock is null))
        {
            return null;
        }

        var route = new RouteDefinition
        {
            Id = context.Name,
            Path = path,
            Methods = methods,
            Upstream = upstream,
            UpstreamPath = upstreamPath,
            Enabled = !disabled,
        }.With(AuthProperties.Auth, [.. options.Auth.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)]);
        if (mock is not null)
        {
            route = route.With(FixedResponseProperties.FixedResponse, mock);
        }
        if (transforms.Count > 0)
        {
            route = route.With(TransformsProperties.Transforms, transforms);
        }

        if (options.Group is { } group)
        {
            route = route.With(RouteGroupsProperties.Groups, [group]);
        }

        return route;
    }

    /// <summary>
    /// backendUri → the upstream (scheme and authority) and the upstream path template; its query → query transforms.
    /// Messages quote <paramref name="written"/>, the backendUri as the file has it: the resolved one may hold an app
    /// setting's value (a key in its query), which is not for the console.
    /// </summary>
    private static void TranslateBackend(
        string backendUri, string written, HashSet<string> parameters, ProxyContext context, List<TransformDefinition> transforms, out string? upstream, out string? upstreamPath)
    {
        upstream = null;
        upstreamPath = null;
        var shown = RegistryFormat.Printable(written);
        var match = BackendUriPattern().Match(backendUri);
        if (!match.Success)
        {
            context.Errors.Add($"backendUri '{shown}' is not an absolute http(s) URL{(written == backendUri ? "" : " once its app settings are resolved")}.");
            return;
        }

        var authority = match.Groups["authority"].Value;
        if (authority.Contains('{', StringComparison.Ordinal))
        {
            context.Errors.Add($"backendUri '{shown}': a variable in the host cannot be translated; a route's upstream is fixed (use one route per host).");
            return;
        }

        if (authority.LastIndexOf('@') is var at and >= 0)
        {
            // Never echoed (nor written to a route: an upstream URL with credentials is refused by the gateway).
            context.Errors.Add($"backendUri '{match.Groups["scheme"].Value}://…@{RegistryFormat.Printable(authority[(at + 1)..])}' carries credentials (user:password@): "
                + "a route's upstream cannot. If the backend needs them, send its Authorization header with requestOverrides (backend.request.headers.Authorization).");
            return;
        }

        var host = authority.StartsWith('[') ? authority[..(authority.IndexOf(']', StringComparison.Ordinal) + 1)] : authority.Split(':')[0];
        if (IsLoopback(host))
        {
            context.Errors.Add(
                $"backendUri '{shown}' points at the function app itself (localhost). With FuncGateway every path of the app goes to the gateway: " +
                "move those functions to an app of their own and route to its address.");
            return;
        }

        upstream = $"{match.Groups["scheme"].Value.ToLowerInvariant()}://{authority}";
        var segments = new List<string>();
        var path = match.Groups["path"].Value;
        // Proxies sent the path exactly as written. A trailing '/' is kept (an UpstreamPath ending in '/' sends it); an
        // empty segment cannot be, and the upstream then receives another path than Proxies sent: said, with both.
        var trailingSlash = path.Length > 1 && path.EndsWith('/');
        var emptySegment = path.Length > 1 && path.TrimEnd('/').Contains("//", StringComparison.Ordinal);
        foreach (var segment in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (!segment.Contains('{', StringComparison.Ordinal) && !segment.Contains('}', StringComparison.Ordinal))
            {
                // UpstreamPath literals are text the gateway encodes: "a%20b" is written "a b", or it would arrive as "a%2520b".
                var literal = Uri.UnescapeDataString(segment);
                if (literal.Contains('/', StringComparison.Ordinal))
                {
                    context.Errors.Add($"backendUri path segment '{RegistryFormat.Printable(segment)}' holds an encoded slash, which an UpstreamPath literal cannot carry.");
                    continue;
                }

                segments.Add(literal);
                continue;
            }

            var variable = WholeVariablePattern().Match(segment);
            if (variable.Success && parameters.Contains(variable.Groups[1].Value))
            {
                segments.Add("{" + variable.Groups[1].Value + "}");
                continue;
            }

            context.Errors.Add(variable.Success && variable.Groups[1].Value.StartsWith("request.", StringComparison.OrdinalIgnoreCase)
                ? $"backendUri path segment '{RegistryFormat.Printable(segment)}': request values cannot go into the upstream path, only route parameters (UpstreamPath)."
                : variable.Success
                    ? $"backendUri path segment '{RegistryFormat.Printable(segment)}' names '{RegistryFormat.Printable(variable.Groups[1].Value)}', which is not a parameter of the route."
                    : $"backendUri path segment '{RegistryFormat.Printable(segment)}' mixes text and a variable; UpstreamPath segments are either literal or one route parameter.");
        }

        upstreamPath = "/" + string.Join('/', segments) + (trailingSlash && segments.Count > 0 ? "/" : "");
        if (emptySegment || (trailingSlash && path.TrimEnd('/').Length + 1 < path.Length))
        {
            context.Notes.Add($"backendUri path '{RegistryFormat.Printable(path)}' has an empty segment ('//'), which an UpstreamPath cannot hold: "
                + $"the upstream receives '{RegistryFormat.Printable(upstreamPath)}' (its parameters filled in) where Proxies sent '{RegistryFormat.Printable(path)}'. "
                + "Most servers read both alike; one that does not (a storage key, a signature over the path) needs its backend changed.");
        }

        var query = match.Groups["query"].Value;
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var pair in query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            // A query is form-encoded: '+' is a space to the backend (as it was when Proxies passed it on as written),
            // while the gateway sends a literal '+' in a value it sets as %2B.
            var name = FormDecode(equals < 0 ? pair : pair[..equals]);
            if (name.Contains('{', StringComparison.Ordinal) || name.Contains('}', StringComparison.Ordinal))
            {
                // Proxies filled a variable in here; a route's QueryParameter has a fixed name, and would send the braces.
                context.Errors.Add($"backendUri query parameter name '{RegistryFormat.Printable(name)}' holds a variable; a route sets parameters of fixed names only.");
                continue;
            }

            if (!names.Add(name))
            {
                context.Notes.Add($"backendUri query parameter '{RegistryFormat.Printable(name)}' is given more than once; a route's QueryParameter sets one value, so only the last is sent.");
            }

            var value = equals < 0 ? "" : FormDecode(pair[(equals + 1)..]);
            if (context.Template($"backendUri query parameter '{name}'", value, parameters, allowRequest: true) is { } template)
            {
                transforms.Add(Transform(("QueryParameter", name), ("Set", template)));
            }
        }
    }

    private static string FormDecode(string text) => Uri.UnescapeDataString(text.Replace('+', ' '));

    /// <summary>
    /// The function app itself by name: <c>localhost</c> in any spelling (any case, a trailing dot, <c>*.localhost</c>).
    /// A loopback address stays allowed: it is how a migration is tried out against local upstreams.
    /// </summary>
    private static bool IsLoopback(string host)
    {
        var name = host.TrimEnd('.');
        return name.Equals("localhost", StringComparison.OrdinalIgnoreCase) || name.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase);
    }

    private static void TranslateRequestOverrides(JsonElement overrides, List<string> methods, HashSet<string> parameters, ProxyContext context, List<TransformDefinition> transforms)
    {
        foreach (var (name, value) in context.Overrides(overrides, "requestOverrides"))
        {
            if (name.Equals("backend.request.method", StringComparison.OrdinalIgnoreCase))
            {
                var target = value.Trim().ToUpperInvariant();
                if (target.Length == 0 || target.Contains('{', StringComparison.Ordinal))
                {
                    context.Errors.Add($"requestOverrides.backend.request.method '{RegistryFormat.Printable(value)}' must be a method name.");
                    continue;
                }

                // HttpMethodChange maps one client method at a time: one per method the route takes.
                foreach (var method in (methods.Count > 0 ? methods : [.. AllMethods]).Where(m => m != target))
                {
                    transforms.Add(Transform(("HttpMethodChange", method), ("Set", target)));
                }

                if (methods.Count == 0)
                {
                    // Proxies sent every method as the target. A method no change maps (PROPFIND, PURGE, DEBUG) would
                    // reach the backend as sent, a method it never saw through the proxy: the route takes only these.
                    methods.AddRange(AllMethods);
                    context.Notes.Add($"backend.request.method: the proxy took every method and sent each as {target}; the route takes {string.Join(", ", AllMethods)} "
                        + "and sends them as it, and answers any other method 405 rather than pass it on unchanged.");
                }
            }
            else if (TryName(name, "backend.request.headers.", out var header))
            {
                // Proxies: an empty value removes the header.
                if (value.Length == 0)
                {
                    transforms.Add(Transform(("RequestHeaderRemove", header)));
                }
                else if (context.Template($"requestOverrides.{name}", value, parameters, allowRequest: true) is { } template)
                {
                    transforms.Add(Transform(("RequestHeader", header), ("Set", template)));
                }
            }
            else if (TryName(name, "backend.request.querystring.", out var parameter))
            {
                if (value.Length == 0)
                {
                    transforms.Add(Transform(("QueryParameterRemove", parameter)));
                }
                else if (context.Template($"requestOverrides.{name}", value, parameters, allowRequest: true) is { } template)
                {
                    transforms.Add(Transform(("QueryParameter", parameter), ("Set", template)));
                }
            }
            else
            {
                context.Errors.Add($"requestOverrides.{name} is not a request override this importer knows (backend.request.method, backend.request.headers.<name>, backend.request.querystring.<name>).");
            }
        }

    }

    private static void TranslateResponseOverrides(JsonElement overrides, ProxyContext context, List<TransformDefinition> transforms)
    {
        foreach (var (name, value) in context.Overrides(overrides, "responseOverrides"))
        {

            if (name.Equals("response.statusCode", StringComparison.OrdinalIgnoreCase))
            {
                context.Errors.Add(
                    "responseOverrides.response.statusCode on a proxy with a backend sets every response's status; FuncGateway maps one upstream status to another " +
                    "(a ResponseStatus transform per status), so write the mappings you need by hand.");
            }
            else if (name.Equals("response.statusReason", StringComparison.OrdinalIgnoreCase))
            {
                context.Notes.Add("response.statusReason is left out: the gateway sends each status's standard reason phrase (HTTP/2 has none).");
            }
            else if (name.Equals("response.body", StringComparison.OrdinalIgnoreCase))
            {
                context.Errors.Add("responseOverrides.response.body on a proxy with a backend replaces the upstream's body; route transforms do not replace bodies.");
            }
            else if (TryName(name, "response.headers.", out var header))
            {
                if (value.Length == 0)
                {
                    transforms.Add(Transform(("ResponseHeaderRemove", header)));
                }
                else if (context.Template($"responseOverrides.{name}", value, [], allowRequest: false) is { } template)
                {
                    transforms.Add(Transform(("ResponseHeader", header), ("Set", template)));
                }
            }
            else
            {
                context.Errors.Add($"responseOverrides.{name} is not a response override this importer knows (response.statusCode, response.statusReason, response.headers.<name>, response.body).");
            }
        }
    }

    /// <summary>
    /// A proxy without backendUri → a <c>FixedResponse</c>: <c>response.statusCode</c> (default 200),
    /// <c>response.headers.*</c> and <c>response.body</c>, all literal (a fixed response has no variables).
    /// </summary>
    private static FixedResponseDefinition? TranslateMock(JsonElement? overrides, HashSet<string> parameters, ProxyContext context)
    {
        if (overrides is not { } response)
        {
            context.Errors.Add("It has neither backendUri nor responseOverrides: there is nothing to forward to and nothing to answer with.");
            return null;
        }

        var status = StatusCodes.Status200OK;
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        string? body = null;
        var start = context.Errors.Count;
        foreach (var (name, value) in context.Overrides(response, "responseOverrides"))
        {

            if (name.Equals("response.statusReason", StringComparison.OrdinalIgnoreCase))
            {
                context.Notes.Add("response.statusReason is left out: the gateway sends each status's standard reason phrase (HTTP/2 has none).");
                continue;
            }

            if (ProxyContext.HasVariable(value, parameters) is { } variable)
            {
                context.Errors.Add($"responseOverrides.{name}: '{{{RegistryFormat.Printable(variable)}}}' is a variable; a fixed response is literal (it never copies the request).");
                continue;
            }

            if (name.Equals("response.statusCode", StringComparison.OrdinalIgnoreCase))
            {
                if (!int.TryParse(value.Trim(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out status))
                {
                    context.Errors.Add($"responseOverrides.response.statusCode '{RegistryFormat.Printable(value)}' is not a status code.");
                }
            }
            else if (name.Equals("response.body", StringComparison.OrdinalIgnoreCase))
            {
                body = value;
            }
            else if (TryName(name, "response.headers.", out var header))
            {
                if (value.Length == 0)
                {
                    context.Notes.Add($"responseOverrides.{name} is empty: a fixed response has only the headers it names, so it is left out.");
                }
                else
                {
                    headers[header] = value;
                }
            }
            else
            {
                context.Errors.Add($"responseOverrides.{name} is not a response override this importer knows (response.statusCode, response.statusReason, response.headers.<name>, response.body).");
            }
        }

        return context.Errors.Count > start
            ? null
            : new FixedResponseDefinition { Status = status, Headers = headers.Count == 0 ? null : headers, Body = body };
    }

    private static bool TryName(string key, string prefix, out string name)
    {
        name = key.Length > prefix.Length && key.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) ? key[prefix.Length..] : "";
        return name.Length > 0;
    }

    private static TransformDefinition Transform(params (string Name, string Value)[] members) =>
        new([.. members.Select(static m => KeyValuePair.Create(m.Name, m.Value))]);

    private static HashSet<string> RouteParameters(string path)
    {
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (Match match in RouteParameterPattern().Matches(path))
        {
            names.Add(match.Groups[1].Value);
        }

        return names;
    }

    [GeneratedRegex(@"^(?<scheme>https?)://(?<authority>[^/?#]+)(?<path>[^?#]*)(?<query>\?[^#]*)?$", RegexOptions.IgnoreCase)]
    private static partial Regex BackendUriPattern();

    [GeneratedRegex(@"^\{([^{}]+)\}$")]
    private static partial Regex WholeVariablePattern();

    // {name}, {*name}, {**name}, {name:constraint}, {name?}, {name=default}: the parameter's name.
    [GeneratedRegex(@"\{\**([A-Za-z_][A-Za-z0-9_]*)[^{}]*\}")]
    private static partial Regex RouteParameterPattern();

    /// <summary>One proxy's translation state: its errors, its notes, and its app settings.</summary>
    private sealed partial class ProxyContext(string name, IReadOnlyDictionary<string, string>? settings, string? settingsSource)
    {
        public string Name { get; } = name;

        public List<string> Errors { get; } = [];

        public List<string> Notes { get; } = [];

        /// <summary>
        /// The members of an overrides object (<paramref name="section"/> in messages) with their values resolved
        /// (<see cref="Resolve"/>); a member that is not a string, or whose settings are missing, is an error and skipped.
        /// </summary>
        public IEnumerable<(string Name, string Value)> Overrides(JsonElement overrides, string section)
        {
            foreach (var item in overrides.EnumerateObject())
            {
                if (item.Value.ValueKind != JsonValueKind.String)
                {
                    Errors.Add($"{section}.{item.Name} must be a string.");
                }
                else if (Resolve(section + "." + item.Name, item.Value.GetString()!) is { } value)
                {
                    // Proxies read the setting at run time (a Key Vault reference included); a route holds the value.
                    if (AppSettingPattern().IsMatch(item.Value.GetString()!) && value.Length > 0)
                    {
                        var used = string.Join(", ", AppSettingPattern().Matches(item.Value.GetString()!).Select(static m => m.Value).Distinct(StringComparer.Ordinal));
                        Notes.Add($"{section}.{item.Name}: the value of {used} is written into the route as text. Changing the setting later does not change the route, "
                            + "and whoever can read the registry (its tables, fgw export, GET /_gateway/routes) can read the value: do not migrate a secret this way.");
                    }

                    yield return (item.Name, value);
                }
            }
        }

        /// <summary>The value with every <c>%Name%</c> replaced from the settings; null (with an error) when one is missing.</summary>
        public string? Resolve(string where, string value)
        {
            var missing = new List<string>();
            var references = new List<string>();
            var resolved = AppSettingPattern().Replace(value, m =>
            {
                var key = m.Groups[1].Value;
                if (settings is not null && settings.TryGetValue(key, out var setting))
                {
                    if (IsPlatformReference(setting))
                    {
                        references.Add(key);
                        return m.Value;
                    }

                    return setting;
                }

                missing.Add(key);
                return m.Value;
            });
            if (references.Count > 0)
            {
                // App Service resolved these for Proxies at run time; copied as they are, the upstream would get the
                // reference's text instead of the secret.
                Errors.Add($"{where} uses app setting(s) {string.Join(", ", references.Select(k => $"%{k}%"))}, whose value in {settingsSource} is a Key Vault or "
                    + "App Configuration reference (@Microsoft.KeyVault(...)): App Service resolved it for Proxies at run time, a route would hold the reference's text. "
                    + "Give the value itself in the settings file (the route then holds it as text), or leave the override out.");
            }

            if (missing.Count > 0)
            {
                Errors.Add(settingsSource is null
                    ? $"{where} uses app setting(s) {string.Join(", ", missing.Select(k => $"%{k}%"))}; give their values with --settings local.settings.json."
                    : $"{where} uses app setting(s) {string.Join(", ", missing.Select(k => $"%{k}%"))}, which {settingsSource} does not define.");
                return null;
            }

            return references.Count > 0 ? null : resolved;
        }

        /// <summary>An App Service reference (<c>@Microsoft.KeyVault(...)</c>, <c>@Microsoft.AppConfiguration(...)</c>) rather than a value.</summary>
        private static bool IsPlatformReference(string setting)
        {
            var text = setting.AsSpan().Trim();
            return text.StartsWith("@Microsoft.KeyVault(", StringComparison.OrdinalIgnoreCase)
                || text.StartsWith("@Microsoft.AppConfiguration(", StringComparison.OrdinalIgnoreCase);
        }

        /// <summary>
        /// A Proxies value (<c>{request.method}</c>, <c>{request.headers.X}</c>, <c>{request.querystring.X}</c>, route
        /// parameters) as a FuncGateway value template; null (with an error) when it holds what a template cannot.
        /// </summary>
        public string? Template(string where, string value, HashSet<string> parameters, bool allowRequest)
        {
            var errors = new List<string>();
            var template = ProxyVariablePattern().Replace(value, m =>
            {
                if (m.Value is "{" or "}")
                {
                    return m.Value + m.Value;
                }

                var variable = m.Groups[1].Value;
                string? translated = null;
                if (variable.Equals("request.method", StringComparison.OrdinalIgnoreCase))
                {
                    translated = "{Method}";
                }
                else if (TryName(variable, "request.headers.", out var header))
                {
                    translated = "{Header:" + header + "}";
                }
                else if (TryName(variable, "request.querystring.", out var query))
                {
                    translated = "{Query:" + query + "}";
                }
                else if (parameters.Contains(variable))
                {
                    translated = "{Route:" + variable + "}";
                }

                if (translated is null)
                {
                    errors.Add(variable.StartsWith("backend.response.", StringComparison.OrdinalIgnoreCase)
                        ? $"{where}: '{{{variable}}}' (a value of the backend's response) has no counterpart in route transforms."
                        : $"{where}: '{{{RegistryFormat.Printable(variable)}}}' is not a request value or route parameter.");
                    return m.Value;
                }

                if (!allowRequest)
                {
                    errors.Add($"{where}: '{{{variable}}}' copies the request into the response, which FuncGateway's response transforms refuse.");
                }

                return translated;
            });
            Errors.AddRange(errors);
            return errors.Count == 0 ? template : null;
        }

        /// <summary>
        /// The first Proxies variable in <paramref name="value"/> (<c>{request.…}</c>, <c>{backend.…}</c>, or a route
        /// parameter), or null. Other braces are text (a JSON body's own).
        /// </summary>
        public static string? HasVariable(string value, HashSet<string> parameters)
        {
            foreach (Match m in ProxyVariablePattern().Matches(value))
            {
                var variable = m.Groups[1].Value;
                if (variable.StartsWith("request.", StringComparison.OrdinalIgnoreCase) || variable.StartsWith("backend.", StringComparison.OrdinalIgnoreCase)
                    || parameters.Contains(variable))
                {
                    return variable;
                }
            }

            return null;
        }

        [GeneratedRegex("%([A-Za-z_][A-Za-z0-9_.:-]*)%")]
        private static partial Regex AppSettingPattern();

        [GeneratedRegex(@"\{([^{}]*)\}|\{|\}")]
        private static partial Regex ProxyVariablePattern();
    }
}

/// <summary>How proxies become routes: the Auth every route gets, and the route group they join.</summary>
internal sealed record ProxiesImportOptions(string Auth, string? Group);

/// <summary>One proxy: its route, or the reasons it has none; and notes on what was left out.</summary>
internal sealed record ProxyResult(string Name, RouteDefinition? Route, IReadOnlyList<string> Errors, IReadOnlyList<string> Notes);

/// <summary>Every proxy of a file, in file order.</summary>
internal sealed record ProxiesTranslation(IReadOnlyList<ProxyResult> Proxies)
{
    public IReadOnlyList<RouteDefinition> Routes => [.. Proxies.Where(p => p.Route is not null).Select(p => p.Route!)];

    public IReadOnlyList<ProxyResult> Untranslatable => [.. Proxies.Where(p => p.Route is null)];
}
