using System.Collections.Frozen;
using System.Collections.Immutable;
using System.Text;
using FuncGateway.Forwarding;
using FuncGateway.LoadBalancing;
using FuncGateway.Routing;
using FuncGateway.Model;

namespace FuncGateway.Configuration;

/// <summary>
/// Validates a whole registry read and compiles it into a <see cref="GatewaySnapshot"/>. Every row is checked in
/// full and every error collected; a bad row is left out with its reasons and never stops the others.
/// </summary>
internal sealed class SnapshotBuilder(
    RegistrySerializer serializer,
    LoadBalancingPolicyRegistry policies,
    TimeSpan defaultTimeout,
    IEnumerable<IRouteFeatureCompiler>? featureCompilers = null,
    InstanceStateRegistry? instanceStates = null,
    UpstreamAllowlist? upstreamAllowlist = null,
    IEnumerable<IPoolFeatureCompiler>? poolCompilers = null,
    IEnumerable<IRouteTransformProvider>? transformProviders = null,
    IEnumerable<IRegistryTableCompiler>? tableCompilers = null,
    IEnumerable<IRouteFilter>? routeFilters = null,
    ReservedPathHandling functionsReservedPaths = ReservedPathHandling.Warn)
{
    /// <summary>Paths under this prefix belong to the gateway's admin surface; table routes cannot claim them.</summary>
    public const string ReservedPrefix = "/_gateway";

    private const double MaxTimeoutSeconds = 3600;
    private const int MaxWeight = 1000;

    private readonly IRouteFeatureCompiler[] _featureCompilers = featureCompilers?.ToArray() ?? [];

    // Capabilities' own tables (schemas), compiled before the routes that name their entries.
    private readonly IRegistryTableCompiler[] _tableCompilers = tableCompilers?.ToArray() ?? [];

    // Which routes this gateway serves at all (its route groups); a row no filter serves is left out, not rejected.
    private readonly IRouteFilter[] _routeFilters = routeFilters?.ToArray() ?? [];

    // Capabilities' parts of a pool: health checks, circuit breakers, hash keys.
    private readonly IPoolFeatureCompiler[] _poolCompilers = poolCompilers?.ToArray() ?? [];

    // The definition every inline (URL) upstream compiles from: no properties, every capability's defaults.
    private static readonly UpstreamDefinition InlineDefinition = new() { Name = "(inline)", Instances = [] };

    // Without providers from the container (tools, tests): the forwarding transforms every route has.
    private readonly IRouteTransformProvider[] _transformProviders =
        [.. (transformProviders ?? [ForwardingTransformProvider.Instance, TraceContextTransformProvider.Instance]).OrderBy(static p => p.Order)];

    // Breakers, health and in-flight counts of instances outlive snapshots: a reload must not reset an open circuit.
    private readonly InstanceStateRegistry _instanceStates = instanceStates ?? new InstanceStateRegistry();

    // Where upstreams may point (FuncGateway:Forwarding:AllowedUpstreams); metadata addresses are refused even without a list.
    private readonly UpstreamAllowlist _upstreamAllowlist = upstreamAllowlist ?? UpstreamAllowlist.Any;

    /// <summary>
    /// Builds the snapshot of <paramref name="content"/>; <paramref name="fingerprint"/> is its
    /// <see cref="Fingerprint"/> when the caller has already computed it (a hash of every row, not worth doing twice).
    /// </summary>
    public GatewaySnapshot Build(RegistryContent content, long version, DateTimeOffset now, string? fingerprint = null)
    {
        ArgumentNullException.ThrowIfNull(content);
        var rejected = new List<RejectedRow>();
        var warnings = new List<RejectedRow>();
        var pools = BuildPools(content.Upstreams, rejected, out var rejectedPools);
        var tables = BuildTables(content, rejected);
        var routes = BuildRoutes(content.Routes, pools, rejectedPools, tables, rejected, warnings);
        rejected.Sort(static (a, b) => (a.Table, a.RowKey, a.PartitionKey).CompareTo((b.Table, b.RowKey, b.PartitionKey)));
        warnings.Sort(static (a, b) => (a.Table, a.RowKey, a.PartitionKey).CompareTo((b.Table, b.RowKey, b.PartitionKey)));
        return new GatewaySnapshot(version, now, fingerprint ?? Fingerprint(content), routes, pools.ToFrozenDictionary(StringComparer.Ordinal), [.. rejected], [.. warnings]);
    }

    /// <summary>Equal for two reads exactly when no row was written, added or removed in between (<see cref="RegistryFingerprint"/>).</summary>
    public static string Fingerprint(RegistryContent content) => RegistryFingerprint.Of(content);

    private SnapshotTables BuildTables(RegistryContent content, List<RejectedRow> rejected)
    {
        if (_tableCompilers.Length == 0)
        {
            return SnapshotTables.Empty;
        }

        var compiled = new List<object>(_tableCompilers.Length);
        foreach (var compiler in _tableCompilers)
        {
            var rows = compiler.Table == RegistryTable.Schemas ? content.Schemas : [];
            compiled.Add(compiler.Compile(rows, rejected));
        }

        return new SnapshotTables(compiled);
    }

    private Dictionary<string, UpstreamPool> BuildPools(IReadOnlyList<RegistryRow> rows, List<RejectedRow> rejected, out Dictionary<string, RejectedRow> rejectedByName)
    {
        _instanceStates.BeginBuild();
        var pools = new Dictionary<string, UpstreamPool>(StringComparer.Ordinal);
        var firstPartition = new Dictionary<string, string>(StringComparer.Ordinal);
        rejectedByName = new Dictionary<string, RejectedRow>(StringComparer.Ordinal);
        foreach (var row in rows.OrderBy(r => r.PartitionKey, StringComparer.Ordinal).ThenBy(r => r.RowKey, StringComparer.Ordinal))
        {
            var errors = new List<string>();
            CheckUnique(firstPartition, row, "upstream name", errors);

            var pool = ReadRow(() => serializer.ParseUpstream(row, errors) is { } definition ? CompilePool(definition, errors) : null, errors);

            if (errors.Count > 0 || pool is null)
            {
                var reject = new RejectedRow(row.Table, row.PartitionKey, row.RowKey, errors);
                rejected.Add(reject);
                rejectedByName.TryAdd(row.RowKey, reject);
                continue;
            }

            pools[row.RowKey] = pool;
        }

        return pools;
    }

    private UpstreamPool? CompilePool(UpstreamDefinition definition, List<string> errors)
    {
        if (!policies.TryGet(definition.LoadBalancing, out var policy))
        {
            errors.Add($"Unknown load-balancing policy '{PrintableText.Of(definition.LoadBalancing)}'. Known: {string.Join(", ", policies.Names)}.");
        }

        var poolFeatures = CompilePoolFeatures(definition, errors);
        var suppliers = poolFeatures.OfType<IPoolInstanceSupplier>().ToArray();
        if (definition.Instances.Count == 0 && suppliers.Length == 0)
        {
            errors.Add("Instances is empty: a pool needs at least one instance (or a Discovery source).");
        }

        var urls = new List<(string Url, int Weight, int Priority)>(definition.Instances.Count);
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var instance in definition.Instances)
        {
            if (!TryNormalizeUpstreamUrl(instance.Url, out var url, out var error))
            {
                errors.Add($"Instance {error}");
                continue;
            }

            if (_upstreamAllowlist.Check(url) is { } refused)
            {
                errors.Add($"Instance {refused}");
            }

            if (instance.Weight is < 1 or > MaxWeight)
            {
                errors.Add($"Instance '{url}': weight {instance.Weight} is outside 1–{MaxWeight}.");
            }

            if (!seen.Add(url))
            {
                errors.Add($"Instance '{url}' is listed twice.");
            }

            urls.Add((url, instance.Weight, 0));
        }

        if (errors.Count > 0 || policy is null)
        {
            return null;
        }

        // Discovered instances were checked by their source (URL, allowlist, weight); a static instance with the same
        // URL wins, so its weight is the one written in the table.
        foreach (var supplier in suppliers)
        {
            foreach (var instance in supplier.Instances)
            {
                if (TryNormalizeUpstreamUrl(instance.Url, out var url, out _) && instance.Weight is >= 1 and <= MaxWeight && seen.Add(url))
                {
                    urls.Add((url, instance.Weight, instance.Priority));
                }
            }
        }

        var instances = ImmutableArray.CreateBuilder<UpstreamInstance>(urls.Count);
        foreach (var (url, weight, priority) in urls)
        {
            instances.Add(CompileInstance(definition.Name, url, weight, priority, poolFeatures));
        }

        return new UpstreamPool(definition.Name, instances.ToImmutable(), policy, Features(poolFeatures));
    }

    /// <summary>What each capability compiles for the pool, in registration order (null where it has nothing).</summary>
    private object?[] CompilePoolFeatures(UpstreamDefinition definition, List<string> errors)
    {
        var features = new object?[_poolCompilers.Length];
        for (var i = 0; i < _poolCompilers.Length; i++)
        {
            features[i] = _poolCompilers[i].CompilePool(definition, errors);
        }

        return features;
    }

    /// <summary>An instance with the state it keeps across snapshots and what each capability attaches to it.</summary>
    private UpstreamInstance CompileInstance(string pool, string url, int weight, int priority, object?[] poolFeatures) =>
        _instanceStates.Acquire(pool, url, state =>
        {
            var gates = ImmutableArray.CreateBuilder<IInstanceGate>();
            var features = new object?[_poolCompilers.Length];
            for (var i = 0; i < _poolCompilers.Length; i++)
            {
                features[i] = _poolCompilers[i].CompileInstance(state, poolFeatures[i]);
                if (features[i] is IInstanceGate gate)
                {
                    gates.Add(gate);
                }
            }

            return new UpstreamInstance(url, weight, state, gates.ToImmutable(), Features(features), priority);
        });

    private static FrozenDictionary<Type, object>? Features(object?[] features)
    {
        Dictionary<Type, object>? map = null;
        foreach (var feature in features)
        {
            if (feature is not null)
            {
                (map ??= [])[feature.GetType()] = feature;
            }
        }

        return map?.ToFrozenDictionary();
    }

    /// <summary>The one-instance pool of a route whose upstream is a URL: round robin, every capability's defaults (default breaker, not probed).</summary>
    private UpstreamPool CompileInlinePool(string url)
    {
        policies.TryGet(LoadBalancingPolicies.RoundRobin, out var roundRobin);
        var features = CompilePoolFeatures(InlineDefinition, []);
        return new UpstreamPool(url, [CompileInstance(url, url, 1, 0, features)], roundRobin!, Features(features), isInline: true);
    }

    /// <summary>An upstream URL must be absolute http(s) with a host, and carry no query, fragment or credentials.</summary>
    public static bool TryNormalizeUpstreamUrl(string? text, out string url, out string error)
    {
        url = "";
        var shown = PrintableText.Of(text ?? "");
        if (string.IsNullOrWhiteSpace(text) || !Uri.TryCreate(text.Trim(), UriKind.Absolute, out var uri))
        {
            error = $"'{shown}' is not an absolute URL (expected e.g. http://10.0.0.4:8080).";
            return false;
        }

        if (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
        {
            error = $"'{shown}' uses scheme '{uri.Scheme}'; only http and https are allowed.";
            return false;
        }

        if (string.IsNullOrEmpty(uri.Host))
        {
            error = $"'{shown}' has no host.";
            return false;
        }

        if (!string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment))
        {
            error = $"'{shown}' has a query or fragment; give only scheme, host, port and an optional base path.";
            return false;
        }

        if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            error = $"'{uri.Scheme}://…@{uri.Authority}' carries credentials in the URL; that is not allowed.";
            return false;
        }

        if (uri.Port == 0)
        {
            // Nothing listens on port 0 (connecting to it fails at once): an SRV record's "no port" or a typo, not an instance.
            error = $"'{shown}' has port 0; give the port the instance listens on (1–65535).";
            return false;
        }

        url = uri.GetLeftPart(UriPartial.Path).TrimEnd('/');
        error = "";
        return true;
    }

    private ImmutableArray<CompiledRoute> BuildRoutes(
        IReadOnlyList<RegistryRow> rows,
        Dictionary<string, UpstreamPool> pools,
        Dictionary<string, RejectedRow> rejectedPools,
        SnapshotTables tables,
        List<RejectedRow> rejected,
        List<RejectedRow> warnings)
    {
        var compiled = new List<CompiledRoute>();
        var firstPartition = new Dictionary<string, string>(StringComparer.Ordinal);
        var inlinePools = new Dictionary<string, UpstreamPool>(StringComparer.Ordinal);

        // Parts of a composition name upstreams too: resolved as a route's own (inline URLs share one pool).
        tables = tables.WithUpstreams(new UpstreamResolver((name, errs) => ResolveUpstream(name, pools, rejectedPools, inlinePools, errs)));
        foreach (var row in rows.OrderBy(r => r.PartitionKey, StringComparer.Ordinal).ThenBy(r => r.RowKey, StringComparer.Ordinal))
        {
            var errors = new List<string>();
            CheckUnique(firstPartition, row, "route id", errors);
            if (!Serves(row))
            {
                // Another gateway's route (route groups): its id is taken, nothing else about it concerns this one.
                continue;
            }

            RouteDefinition? parsed = null;
            var route = ReadRow(
                () => (parsed = serializer.ParseRoute(row, errors)) is { } definition ? CompileRoute(definition, pools, rejectedPools, inlinePools, tables, errors) : null,
                errors);
            if (parsed is null && errors.Count > 0)
            {
                // The row is rejected before it compiled. Its Path depends on no other property, so what is wrong with
                // it is listed now too rather than only after the operator has fixed the rest.
                ReadRow<object>(() => CheckPathOfRejectedRow(row, errors), errors);
            }

            if (errors.Count == 0 && route is not null && FunctionsReservedPaths.PrefixOf(route.Definition.Path) is { } reserved)
            {
                var reason = FunctionsReservedPaths.Reason(route.Definition.Path, reserved);
                if (functionsReservedPaths == ReservedPathHandling.Reject)
                {
                    errors.Add(reason);
                }
                else
                {
                    warnings.Add(new RejectedRow(row.Table, row.PartitionKey, row.RowKey, [reason]));
                }
            }

            if (errors.Count > 0 || route is null)
            {
                rejected.Add(new RejectedRow(row.Table, row.PartitionKey, row.RowKey, errors));
                continue;
            }

            compiled.Add(route);
        }

        // Two enabled routes that would match exactly the same requests make the choice arbitrary: keep the one
        // whose id sorts first, reject the other and say which it collides with.
        compiled.Sort(static (a, b) => string.CompareOrdinal(a.Definition.Id, b.Definition.Id));
        var byConflictKey = new Dictionary<string, List<CompiledRoute>>(StringComparer.Ordinal);
        var result = ImmutableArray.CreateBuilder<CompiledRoute>(compiled.Count);
        foreach (var route in compiled)
        {
            if (route.Definition.Enabled)
            {
                // A route reached by more than one spec (a default API version without its path segment) conflicts
                // when any of them does.
                var keys = new List<string>(1 + route.MatchSpec.Alternates.Count) { ConflictKey(route, route.MatchSpec) };
                keys.AddRange(route.MatchSpec.Alternates.Select(alternate => ConflictKey(route, alternate)));
                var clash = keys.Select(key => byConflictKey.GetValueOrDefault(key)?.FirstOrDefault(r => RouteMethods.Overlap(r.Definition.Methods, route.Definition.Methods)))
                    .FirstOrDefault(static r => r is not null);
                if (clash is not null)
                {
                    rejected.Add(new RejectedRow(RegistryTable.Routes, route.Definition.Group, route.Definition.Id,
                        [$"Conflicts with route '{clash.Definition.Id}': same path shape, hosts, conditions and priority with overlapping methods, so the match would be ambiguous. Change Priority or a condition."]));
                    continue;
                }

                foreach (var key in keys)
                {
                    if (!byConflictKey.TryGetValue(key, out var same))
                    {
                        byConflictKey[key] = same = [];
                    }

                    same.Add(route);
                }
            }

            result.Add(route);
        }

        var routes = result.ToImmutable();
        CompiledRoute.ShareChoosingQueryParameters(routes);
        return routes;
    }

    private CompiledRoute? CompileRoute(
        RouteDefinition definition,
        Dictionary<string, UpstreamPool> pools,
        Dictionary<string, RejectedRow> rejectedPools,
        Dictionary<string, UpstreamPool> inlinePools,
        SnapshotTables tables,
        List<string> errors)
    {
        var template = ParseTemplate(definition.Path, errors);

        var methods = new List<string>(definition.Methods.Count);
        foreach (var method in definition.Methods)
        {
            if (!HttpSyntax.IsToken(method))
            {
                errors.Add($"Methods: '{PrintableText.Of(method)}' is not a valid HTTP method.");
                continue;
            }

            var upper = method.ToUpperInvariant();
            if (!methods.Contains(upper))
            {
                methods.Add(upper);
            }
        }

        // Kept by the compiled route and its match spec for the snapshot's life: an exact array, or the shared empty one.
        var routeMethods = methods.Count == 0 ? Array.Empty<string>() : methods.ToArray();

        foreach (var host in definition.Hosts)
        {
            if (!HostPattern.TryParse(host, out _, out var hostError))
            {
                errors.Add("Hosts: " + hostError);
            }
        }

        ValidateConditions("Headers", definition.Headers, isHeader: true, errors);
        ValidateConditions("Query", definition.Query, isHeader: false, errors);

        var pool = definition.Upstream is { } upstream ? ResolveUpstream(upstream, pools, rejectedPools, inlinePools, errors) : null;

        PathRewriter? rewriter = null;
        if (template is not null && !PathRewriter.TryCreate(template, definition.UpstreamPath, definition.StripPrefix, out rewriter, out var rewriteError))
        {
            errors.Add(rewriteError);
        }

        var timeout = defaultTimeout;
        if (definition.TimeoutSeconds is { } seconds)
        {
            if (seconds is <= 0 or > MaxTimeoutSeconds)
            {
                errors.Add($"TimeoutSeconds {seconds} is outside (0, {MaxTimeoutSeconds}].");
            }
            else
            {
                timeout = TimeSpan.FromSeconds(seconds);
            }
        }

        Dictionary<Type, object>? features = null;
        foreach (var compiler in _featureCompilers)
        {
            if (compiler.Compile(definition, tables, errors) is { } feature)
            {
                (features ??= [])[feature.GetType()] = feature;
            }
        }

        foreach (var feature in features?.Values ?? Enumerable.Empty<object>())
        {
            (feature as IRouteFeatureLink)?.Link(features!.Values);
        }

        var responderPool = CheckResponder(definition, features, errors);
        pool ??= responderPool;

        // The route as compiled (methods normalized): what the transforms are built from and what the route keeps.
        var compiledDefinition = definition with { Methods = routeMethods };
        RouteTransforms? transforms = null;
        if (rewriter is not null)
        {
            // Routing's part of the route travels with the capabilities' parts: the transforms read the path rewrite.
            (features ??= [])[typeof(PathRewriter)] = rewriter;
            transforms = RouteTransforms.Build(_transformProviders, new RouteTransformBuilderContext(compiledDefinition, features, errors));
        }

        if (errors.Count > 0 || template is null || rewriter is null || pool is null)
        {
            return null;
        }

        var spec = new RouteMatchSpec(definition.Id, template, definition.Priority)
        {
            Methods = routeMethods,
            Hosts = definition.Hosts,
            Headers = definition.Headers,
            Query = definition.Query,
        };
        foreach (var feature in features?.Values ?? Enumerable.Empty<object>())
        {
            if (feature is IRouteMatchFeature refinement)
            {
                spec = refinement.Refine(spec, errors);
            }
        }

        if (errors.Count > 0)
        {
            return null;
        }

        features ??= [];
        features[typeof(RouteMatchSpec)] = spec;
        return new CompiledRoute(compiledDefinition, pool, timeout, features.ToFrozenDictionary(), transforms);
    }

    /// <summary>
    /// A route has an upstream, or exactly one capability that answers for it (<see cref="IRouteResponder"/>); then
    /// nothing that only forwarding uses may be set. Returns the no-instance pool of a valid responder route.
    /// </summary>
    private UpstreamPool? CheckResponder(RouteDefinition definition, Dictionary<Type, object>? features, List<string> errors)
    {
        var responders = features?.Values.OfType<IRouteResponder>().Select(static r => r.Property).Order(StringComparer.Ordinal).ToList() ?? [];
        if (definition.Upstream is not null)
        {
            if (responders.Count > 0)
            {
                errors.Add($"{responders[0]} and Upstream are exclusive: a route either forwards to its upstream or answers by itself.");
            }

            return null;
        }

        if (responders.Count == 0)
        {
            // An answering property that is set but did not compile has said why; the forwarding-only properties are
            // still checked against it, so every reason is listed at once.
            var answering = definition.Properties.Where(static p => p.Key.AnswersRoute && p.Value is not null).Select(static p => p.Key.Name).Order(StringComparer.Ordinal).ToList();
            if (answering.Count == 0)
            {
                errors.Add(RegistrySerializer.UpstreamRequired(serializer.Schema));
                return null;
            }

            responders = answering;
        }

        if (responders.Count > 1)
        {
            errors.Add($"{string.Join(" and ", responders)} are exclusive: a route answers by itself in one way.");
        }

        foreach (var (name, isSet) in new[]
        {
            (RouteProperties.UpstreamPath, definition.UpstreamPath is not null),
            (RouteProperties.StripPrefix, definition.StripPrefix is not null),
            (RouteProperties.PreserveHost, definition.PreserveHost),
            (ForwardingProperties.WebSockets.Name, definition.Get(ForwardingProperties.WebSockets)),
        })
        {
            if (isSet)
            {
                errors.Add($"{name} needs an Upstream; a route with {responders[0]} answers by itself.");
            }
        }

        return CompiledRoute.NoPool;
    }

    private UpstreamPool? ResolveUpstream(
        string upstream,
        Dictionary<string, UpstreamPool> pools,
        Dictionary<string, RejectedRow> rejectedPools,
        Dictionary<string, UpstreamPool> inlinePools,
        List<string> errors)
    {
        if (upstream.Contains("://", StringComparison.Ordinal))
        {
            if (!TryNormalizeUpstreamUrl(upstream, out var url, out var error))
            {
                errors.Add($"Upstream {error}");
                return null;
            }

            if (_upstreamAllowlist.Check(url) is { } refused)
            {
                errors.Add($"Upstream {refused}");
                return null;
            }

            // Routes that name the same URL share one pool, so its round-robin state (and later health) is one.
            if (!inlinePools.TryGetValue(url, out var inline))
            {
                inlinePools[url] = inline = CompileInlinePool(url);
            }

            return inline;
        }

        if (pools.TryGetValue(upstream, out var pool))
        {
            return pool;
        }

        errors.Add(rejectedPools.ContainsKey(upstream)
            ? $"Upstream pool '{PrintableText.Of(upstream)}' exists but was rejected; fix that row first."
            : $"Upstream '{PrintableText.Of(upstream)}' is neither a known upstream pool nor an absolute http(s) URL.");
        return null;
    }

    private static void ValidateConditions(string property, IReadOnlyList<RequestCondition> conditions, bool isHeader, List<string> errors)
    {
        foreach (var condition in conditions)
        {
            if (condition is null || string.IsNullOrWhiteSpace(condition.Name))
            {
                errors.Add($"{property}: every condition needs a non-empty \"name\".");
                continue;
            }

            if (isHeader && !HttpSyntax.IsToken(condition.Name))
            {
                errors.Add($"{property}: '{PrintableText.Of(condition.Name)}' is not a valid header name.");
            }

            if (!Enum.IsDefined(condition.Mode))
            {
                errors.Add($"{property} '{condition.Name}': unknown mode.");
            }

            var hasValues = condition.Values is { Count: > 0 };
            if (condition.Mode is ConditionMode.Exists or ConditionMode.NotExists)
            {
                if (hasValues)
                {
                    errors.Add($"{property} '{condition.Name}': mode {condition.Mode} takes no values.");
                }
            }
            else if (!hasValues)
            {
                errors.Add($"{property} '{condition.Name}': mode {condition.Mode} needs at least one value.");
            }
            else if (condition.Values!.Any(v => v is null))
            {
                errors.Add($"{property} '{condition.Name}': values may not be null.");
            }
        }
    }

    /// <summary>
    /// Parses and compiles one row; when that throws (a gap in the checks, a value no check foresaw, never the
    /// operator's intent) the row is rejected with a reason saying so. Without this one such row failed the whole
    /// build, so no change to any row was served again (and a cold instance had no snapshot at all).
    /// </summary>
    private static T? ReadRow<T>(Func<T?> read, List<string> errors)
        where T : class
    {
        try
        {
            return read();
        }
#pragma warning disable CA1031 // A bug reading one row must cost that row, not the snapshot of every other one.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            errors.Add(
                $"The gateway could not read this row ({ex.GetType().Name} in {ex.TargetSite?.DeclaringType?.Name}.{ex.TargetSite?.Name}); it is left out. "
                + "Check its JSON values for nulls or unusual types, and report the row: every bad value should have a reason of its own.");
            return null;
        }
    }

    /// <summary>
    /// Row keys are identities across partitions: the first row (partitions in ordinal order) keeps the name, a
    /// later one is rejected naming where the name is already taken.
    /// </summary>
    private static void CheckUnique(Dictionary<string, string> firstPartition, RegistryRow row, string what, List<string> errors)
    {
        if (!firstPartition.TryGetValue(row.RowKey, out var other))
        {
            firstPartition[row.RowKey] = row.PartitionKey;
            return;
        }

        errors.Add(other == row.PartitionKey
            ? $"Duplicate {what} '{row.RowKey}': defined twice in partition '{other}'."
            : $"Duplicate {what} '{row.RowKey}': already defined in partition '{other}'. Names must be unique across partitions.");
    }

    private bool Serves(RegistryRow row)
    {
        foreach (var filter in _routeFilters)
        {
            if (!filter.Serves(row))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The route's template, or null with the reason; a path under the admin prefix is parsed and refused.</summary>
    private static RouteTemplate? ParseTemplate(string path, List<string> errors)
    {
        if (!RouteTemplate.TryParse(path, out var template, out var templateError))
        {
            errors.Add(templateError);
        }
        else if (IsReserved(path))
        {
            errors.Add($"Path '{PrintableText.Of(path)}' is under {ReservedPrefix}/, which is reserved for the gateway's admin surface.");
        }

        return template;
    }

    /// <summary>
    /// A row that failed to parse: its <c>Path</c> checked as compiling would have, when it was read without a
    /// reason of its own (a string within the size limit). Costs only rejected rows a template parse.
    /// </summary>
    private static object? CheckPathOfRejectedRow(RegistryRow row, List<string> errors)
    {
        if (row.Properties.GetValueOrDefault(RouteProperties.Path) is string { Length: <= RegistryEntityReader.MaxStringPropertyChars } raw
            && raw.Trim() is { Length: > 0 } path)
        {
            _ = ParseTemplate(path, errors);
        }

        return null;
    }

    private static bool IsReserved(string path) =>
        path.StartsWith(ReservedPrefix, StringComparison.OrdinalIgnoreCase)
        && (path.Length == ReservedPrefix.Length || path[ReservedPrefix.Length] == '/');

    private static string ConflictKey(CompiledRoute route, RouteMatchSpec spec)
    {
        var d = route.Definition;
        var builder = new StringBuilder(spec.Template.ShapeKey).Append('\n').Append(d.Priority).Append('\n');
        builder.Append(spec.Condition?.ConflictKey).Append('\n');
        // A host listed twice matches nothing more: 'a.example.com,A.example.com' is 'a.example.com'; and a list
        // holding '*' (any host, any port) matches what no Hosts at all matches.
        if (!d.Hosts.Any(static h => h.Trim() == "*"))
        {
            foreach (var host in d.Hosts.Select(h => h.ToUpperInvariant()).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
            {
                builder.Append(host).Append(',');
            }
        }

        builder.Append('\n');
        AppendConditions(builder, d.Headers);
        builder.Append('\n');
        AppendConditions(builder, d.Query);
        return builder.ToString();
    }

    private static void AppendConditions(StringBuilder builder, IReadOnlyList<RequestCondition> conditions)
    {
        foreach (var c in conditions.OrderBy(c => c.Name.ToUpperInvariant(), StringComparer.Ordinal).ThenBy(c => c.Mode))
        {
            builder.Append(c.Name.ToUpperInvariant()).Append('|').Append(c.Mode).Append('|');
            if (c.Mode is ConditionMode.Exists or ConditionMode.NotExists)
            {
                // Presence alone: values and their case are ignored, so they do not tell two conditions apart.
                builder.Append(';');
                continue;
            }

            builder.Append(c.CaseSensitive).Append('|');
            foreach (var v in (c.Values ?? []).Select(v => c.CaseSensitive ? v : v.ToUpperInvariant()).Order(StringComparer.Ordinal))
            {
                builder.Append(v).Append('\u001f');
            }

            builder.Append(';');
        }
    }

}
