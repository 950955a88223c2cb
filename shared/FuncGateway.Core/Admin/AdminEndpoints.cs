using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using FuncGateway.Configuration;
using FuncGateway.Diagnostics;
using FuncGateway.Discovery;
using FuncGateway.Model;
using FuncGateway.RouteGroups;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace FuncGateway.Admin;

/// <summary>
/// The admin surface under <c>/_gateway/</c>, a prefix table routes cannot claim and that the Functions host does
/// not reserve (it keeps <c>/admin</c> and <c>/runtime/webhooks</c>). Everything but <c>healthz</c> requires the
/// admin key in <c>X-Admin-Key</c>; with no key configured those endpoints do not exist. An endpoint with keys of its
/// own (<c>pools/{pool}/instances/{id}</c> and the registration keys) also takes those, for what they allow only.
/// </summary>
internal sealed class AdminEndpoints
{
    public const string Prefix = SnapshotBuilder.ReservedPrefix;
    public const string KeyHeader = AdminKeys.Header;

    /// <summary>Below this many characters the admin key is warned about at start: it could be guessed.</summary>
    public const int RecommendedKeyLength = 16;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() },
    };

    private readonly GatewayRegistry _registry;
    private readonly HealthReport _health;
    private readonly ILogger<AdminEndpoints> _logger;
    private readonly byte[]? _keyHash;
    private readonly double _refreshInterval;
    private readonly IReadOnlyList<string> _groups;

    private readonly RegistrySchema _schema;
    private readonly IAdminEndpoint[] _extensions;
    private readonly AdminExtensionEndpoints? _hostEndpoints;
    private readonly AdminKeyFailures _failures;

    public AdminEndpoints(
        GatewayRegistry registry, IOptions<GatewayOptions> options, ILogger<AdminEndpoints> logger, HealthReport health, RegistrySerializer serializer,
        AdminKeyFailures failures, IEnumerable<IAdminEndpoint>? extensions = null, AdminExtensionEndpoints? hostEndpoints = null)
    {
        _failures = failures;
        _extensions = [.. extensions ?? []];
        _hostEndpoints = hostEndpoints;
        _schema = serializer.Schema;
        _registry = registry;
        _health = health;
        _logger = logger;
        // Trimmed as an HTTP header value is (Kestrel drops its leading and trailing whitespace): a secret stored with a
        // trailing newline still works, and a blank one is no key at all (the surface stays off) rather than a key
        // nobody can send.
        var key = options.Value.Admin.Key?.Trim();
        if (AdminKeys.IsUnresolvedKeyVaultReference(key))
        {
            // App Service hands the app the reference text itself when it cannot resolve it; that text is guessable,
            // so it must never work as a key. Fail closed: the admin surface stays off.
            Log.AdminKeyUnresolved(_logger);
            key = null;
        }

        if (key is { Length: > 0 and < RecommendedKeyLength })
        {
            // Not refused (turning the admin surface off would hide the mistake); said loudly at start.
            Log.AdminKeyShort(_logger, key.Length, RecommendedKeyLength);
        }

        _keyHash = string.IsNullOrEmpty(key) ? null : SHA256.HashData(Encoding.UTF8.GetBytes(key));
        _refreshInterval = options.Value.Registry.RefreshIntervalSeconds;
        _groups = RouteGroupFilter.ParseSetting(options.Value.Registry.Groups, []);
    }

    /// <summary>The endpoints the core itself serves.</summary>
    internal static readonly string[] BuiltInNames = ["healthz", "routes", "upstreams", "rejected", "status", "reload", "health"];

    public static bool IsAdminPath(PathString path) => path.StartsWithSegments(Prefix, StringComparison.OrdinalIgnoreCase);

    /// <summary>True for the anonymous readiness probe, <c>/_gateway/healthz</c>.</summary>
    public static bool IsReadinessPath(PathString path) =>
        path.StartsWithSegments(Prefix, StringComparison.OrdinalIgnoreCase, out var rest)
        && string.Equals(rest.Value?.Trim('/'), "healthz", StringComparison.OrdinalIgnoreCase);

    /// <summary>Answers an admin request of <paramref name="client"/> (the address as the gateway resolved it).</summary>
    public async Task HandleAsync(HttpContext context, IPAddress? client)
    {
        var request = context.Request;
        request.Path.StartsWithSegments(Prefix, StringComparison.OrdinalIgnoreCase, out var rest);
        var action = rest.Value?.Trim('/').ToLowerInvariant() ?? "";
        // Every admin response, the refusals too (401 without the key, 404, 405), carries the admin pages' policy: the
        // dashboard's page and data, and JSON that no browser should render, frame or sniff.
        context.Response.OnStarting(static state =>
        {
            var response = (HttpResponse)state;
            var cacheControl = response.Headers.CacheControl.ToString();
            AdminPagePolicy.Apply(response, cacheControl.Length > 0 ? cacheControl : "no-store");
            return Task.CompletedTask;
        }, context.Response);

        if (action == "healthz")
        {
            await HealthzAsync(context);
            return;
        }

        if (_keyHash is null && FindExtension(action) is not { HasOwnKeys: true })
        {
            // Admin off: indistinguishable from an unknown path. An endpoint with keys of its own (registration keys)
            // stays on for them.
            await GatewayProblem.NotFoundAsync(context);
            return;
        }

        if (_failures.IsThrottled(client, out var retryAfter) && !IsAnonymous(action))
        {
            // Before the key is even compared: the right key gets this too, or the answer would tell a guess that hit.
            await GatewayProblem.WriteAsync(context, StatusCodes.Status429TooManyRequests, ProblemCodes.AdminThrottled,
                "Too many wrong admin keys from this client.", "Wait before trying again.",
                new(HeaderNames.RetryAfter, retryAfter.ToString(CultureInfo.InvariantCulture)));
            return;
        }

        if (!IsAuthorized(request) && !IsAnonymous(action) && !IsAllowedByOwnKey(action, request))
        {
            // A key of an endpoint's own (a registration key) used anywhere else gets this same answer as a wrong key.
            // Counted, and logged once per client and window: a flood of refusals must not become a flood of log lines.
            var given = request.Headers[KeyHeader];
            _failures.RecordRefusal(client, PrintableText.Of(request.Path.Value ?? ""), wrongKey: given.Count > 1 || !string.IsNullOrEmpty(given.ToString()));
            await GatewayProblem.WriteAsync(context, StatusCodes.Status401Unauthorized, ProblemCodes.AdminUnauthorized,
                "The admin key is missing or wrong.", $"Send the admin key in the {KeyHeader} header.",
                new("WWW-Authenticate", $"ApiKey header=\"{KeyHeader}\""));
            return;
        }

        var (methods, handler) = action switch
        {
            "routes" => (Get, (Func<HttpContext, Task>)RoutesAsync),
            "upstreams" => (Get, UpstreamsAsync),
            "rejected" => (Get, RejectedAsync),
            "status" => (Get, StatusAsync),
            "reload" => ([HttpMethods.Post], ReloadAsync),
            "health" => (Get, HealthAsync),
            _ => Extension(action),
        };
        if (handler is null && _hostEndpoints is not null && _hostEndpoints.TryGet(action, out var extension))
        {
            (methods, handler) = (Get, ctx => extension(ctx));
        }

        if (handler is null)
        {
            await GatewayProblem.WriteAsync(context, StatusCodes.Status404NotFound, ProblemCodes.AdminNotFound,
                "No such admin endpoint.", $"Known: {Prefix}/routes, {Prefix}/upstreams, {Prefix}/rejected, {Prefix}/status, {Prefix}/reload (POST), {Prefix}/health, {Prefix}/healthz{ExtensionList()}.");
            return;
        }

        if (!methods!.Any(m => string.Equals(request.Method, m, StringComparison.OrdinalIgnoreCase) || (m == HttpMethods.Get && HttpMethods.IsHead(request.Method))))
        {
            await GatewayProblem.MethodNotAllowedAsync(context, [.. methods!]);
            return;
        }

        await handler(context);
    }

    private static readonly string[] Get = [HttpMethods.Get];

    private (IReadOnlyList<string>? Methods, Func<HttpContext, Task>? Handler) Extension(string action) =>
        FindExtension(action) is { } endpoint ? (endpoint.Methods, endpoint.HandleAsync) : (null, null);

    private bool IsAnonymous(string action) => FindExtension(action) is { AllowsAnonymous: true };

    private IAdminEndpoint? FindExtension(string action)
    {
        foreach (var endpoint in _extensions)
        {
            if (endpoint.ServesSubpaths
                ? action.Length > endpoint.Name.Length + 1 && action.StartsWith(endpoint.Name + "/", StringComparison.Ordinal)
                : string.Equals(endpoint.Name, action, StringComparison.Ordinal))
            {
                return endpoint;
            }
        }

        return null;
    }

    private string ExtensionList()
    {
        var list = "";
        foreach (var endpoint in _extensions)
        {
            list += $", {Prefix}/{endpoint.Name}{(endpoint.ServesSubpaths ? "/…" : "")} ({string.Join(", ", endpoint.Methods)})";
        }

        foreach (var name in _hostEndpoints?.Names ?? [])
        {
            list += $", {Prefix}/{name}";
        }

        return list;
    }

    private bool IsAllowedByOwnKey(string action, HttpRequest request)
    {
        var given = request.Headers[KeyHeader];
        return given.Count == 1 && !string.IsNullOrEmpty(given[0])
            && FindExtension(action) is { HasOwnKeys: true } endpoint && endpoint.AllowsOwnKey(request, given[0]!);
    }

    private bool IsAuthorized(HttpRequest request)
    {
        var given = request.Headers[KeyHeader];
        if (_keyHash is null || given.Count != 1 || string.IsNullOrEmpty(given[0]))
        {
            return false;
        }

        // Compare hashes so neither the key's content nor its length leaks through timing.
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(given[0]!));
        return CryptographicOperations.FixedTimeEquals(hash, _keyHash);
    }

    private Task HealthzAsync(HttpContext context)
    {
        // Never waits: a cold gateway (storage unreachable) is "not ready" at once, while requests wait up to StartupWaitSeconds.
        var snapshot = _registry.Current;
        if (snapshot is null)
        {
            return GatewayProblem.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, ProblemCodes.NoConfiguration,
                "Not ready: the gateway has no route configuration yet.", "No route snapshot has been loaded from storage yet.",
                new(HeaderNames.RetryAfter, _registry.RetryAfter));
        }

        return WriteJsonAsync(context, new { status = "ready", snapshotVersion = snapshot.Version, routes = snapshot.Routes.Length });
    }

    private Task RoutesAsync(HttpContext context)
    {
        var snapshot = _registry.Current;
        return WriteJsonAsync(context, new
        {
            snapshotVersion = snapshot?.Version,
            loadedAt = snapshot?.LoadedAt,
            routes = snapshot?.Routes.Select(Describe) ?? [],
        });
    }

    /// <summary>A route as the admin surface shows it: the core's properties, then every capability's (defaults included).</summary>
    private Dictionary<string, object?> Describe(CompiledRoute route)
    {
        var d = route.Definition;
        var result = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["id"] = d.Id,
            ["group"] = d.Group,
            ["path"] = d.Path,
            ["methods"] = d.Methods,
            ["hosts"] = d.Hosts,
            ["headers"] = d.Headers,
            ["query"] = d.Query,
            ["upstream"] = d.Upstream,
            ["upstreamPath"] = d.UpstreamPath,
            ["stripPrefix"] = d.StripPrefix,
            ["priority"] = d.Priority,
            ["timeoutSeconds"] = route.Timeout.TotalSeconds,
            ["enabled"] = d.Enabled,
            ["preserveHost"] = d.PreserveHost,
        };
        foreach (var property in _schema.RouteProperties)
        {
            result[property.FileName] = d.Properties.GetValue(property) ?? property.DefaultValue;
        }

        result["instances"] = route.Pool.Instances.Select(i => i.Url);
        return result;
    }

    private Task UpstreamsAsync(HttpContext context)
    {
        var snapshot = _registry.Current;
        return WriteJsonAsync(context, new
        {
            snapshotVersion = snapshot?.Version,
            upstreams = snapshot?.Upstreams.Values.OrderBy(p => p.Name, StringComparer.Ordinal).Select(p => new
            {
                p.Name,
                loadBalancing = p.Policy.Name,
                // Availability, breakers and health per instance: GET /_gateway/health.
                instances = p.Instances.Select(static i => new { url = i.Url, weight = i.Weight, priority = i.Priority }),
                discovery = p.Discovery?.Describe(),
            }) ?? [],
        });
    }

    private Task RejectedAsync(HttpContext context)
    {
        var snapshot = _registry.Current;
        return WriteJsonAsync(context, new
        {
            snapshotVersion = snapshot?.Version,
            rejected = snapshot?.Rejected.Select(r => new { table = r.Table.ToString(), r.PartitionKey, r.RowKey, r.Errors }) ?? [],
        });
    }

    private Task HealthAsync(HttpContext context) => WriteJsonAsync(context, _health.Build());

    private Task StatusAsync(HttpContext context) => WriteStatusAsync(context, _registry.Status, StatusCodes.Status200OK);

    private async Task ReloadAsync(HttpContext context)
    {
        Log.AdminReload(_logger);
        var status = await _registry.ReloadAsync(force: true, context.RequestAborted);
        await WriteStatusAsync(context, status, status.LastError is null ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
    }

    private Task WriteStatusAsync(HttpContext context, RegistryStatus status, int statusCode)
    {
        var snapshot = _registry.Current;
        context.Response.StatusCode = statusCode;
        return WriteJsonAsync(context, new
        {
            status.SnapshotVersion,
            status.SnapshotLoadedAt,
            status.LastAttemptAt,
            status.LastSuccessAt,
            status.LastError,
            readingSince = _registry.ReadingSince,
            routes = snapshot?.Routes.Length ?? 0,
            upstreams = snapshot?.Upstreams.Count ?? 0,
            rejected = snapshot?.Rejected.Length ?? 0,
            refreshIntervalSeconds = _refreshInterval,
            groups = _groups,
            process = ProcessReport.Build(),
        });
    }

    private static Task WriteJsonAsync<T>(HttpContext context, T value)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        context.Response.Headers.CacheControl = "no-store";
        return HttpMethods.IsHead(context.Request.Method)
            ? Task.CompletedTask
            : JsonSerializer.SerializeAsync(context.Response.Body, value, Json, context.RequestAborted);
    }
}
