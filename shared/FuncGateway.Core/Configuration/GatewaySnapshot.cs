using System.Collections.Frozen;
using System.Collections.Immutable;
using FuncGateway.Routing;
using FuncGateway.Transforms;
using Yarp.ReverseProxy.Forwarder;

using FuncGateway.Model;

namespace FuncGateway.Configuration;

/// <summary>
/// One complete, validated, immutable view of the registry with every per-route object built. Requests read the
/// current snapshot through one reference; a reload builds a new one and swaps it.
/// </summary>
public sealed class GatewaySnapshot
{
    internal GatewaySnapshot(
        long version,
        DateTimeOffset loadedAt,
        string fingerprint,
        ImmutableArray<CompiledRoute> routes,
        FrozenDictionary<string, UpstreamPool> upstreams,
        ImmutableArray<RejectedRow> rejected)
    {
        Version = version;
        LoadedAt = loadedAt;
        Fingerprint = fingerprint;
        Routes = routes;
        Upstreams = upstreams;
        Rejected = rejected;
        var enabled = new List<KeyValuePair<RouteMatchSpec, CompiledRoute>>(routes.Length);
        foreach (var route in routes)
        {
            if (route.Definition.Enabled)
            {
                enabled.Add(new(route.MatchSpec, route));
            }
        }

        Matcher = RouteMatcher<CompiledRoute>.Build(enabled);
    }

    /// <summary>Increases by one with every snapshot this process builds.</summary>
    public long Version { get; }

    /// <summary>When the snapshot was built.</summary>
    public DateTimeOffset LoadedAt { get; }

    /// <summary>Hash over every row's keys and ETag; equal fingerprints mean nothing changed.</summary>
    public string Fingerprint { get; }

    /// <summary>Every valid route, enabled or not, in id order.</summary>
    public ImmutableArray<CompiledRoute> Routes { get; }

    /// <summary>Every valid upstream pool by name.</summary>
    public FrozenDictionary<string, UpstreamPool> Upstreams { get; }

    /// <summary>Rows that were refused, with every reason.</summary>
    public ImmutableArray<RejectedRow> Rejected { get; }

    internal RouteMatcher<CompiledRoute> Matcher { get; }
}

/// <summary>A route with everything a request needs prepared: matcher spec, rewrite, transforms, pool and forwarding settings.</summary>
public sealed class CompiledRoute
{
    internal CompiledRoute(
        RouteDefinition definition,
        RouteMatchSpec matchSpec,
        PathRewriter rewriter,
        UpstreamPool pool,
        TimeSpan timeout,
        FrozenDictionary<Type, object>? features = null,
        RouteTransforms? transforms = null)
    {
        _features = features ?? FrozenDictionary<Type, object>.Empty;
        Transforms = transforms ?? RouteTransforms.Empty;
        Definition = definition;
        MatchSpec = matchSpec;
        Rewriter = rewriter;
        Pool = pool;
        Timeout = timeout;
        RequestConfig = new ForwarderRequestConfig { ActivityTimeout = timeout };
    }

    /// <summary>The route as written.</summary>
    public RouteDefinition Definition { get; }

    /// <summary>The upstream pool (a one-instance pool for an inline URL).</summary>
    public UpstreamPool Pool { get; }

    /// <summary>Effective inactivity timeout.</summary>
    public TimeSpan Timeout { get; }

    internal RouteMatchSpec MatchSpec { get; }

    internal PathRewriter Rewriter { get; }

    internal ForwarderRequestConfig RequestConfig { get; }

    /// <summary>The route's ordered request and response transforms, compiled with the snapshot.</summary>
    internal RouteTransforms Transforms { get; }

    private readonly FrozenDictionary<Type, object> _features;

    /// <summary>The per-route object a capability compiled for this route (see IRouteFeatureCompiler), or null.</summary>
    public T? GetFeature<T>()
        where T : class => _features.TryGetValue(typeof(T), out var feature) ? (T)feature : null;
}
