using System.Collections.Frozen;
using Yarp.ReverseProxy.Forwarder;

namespace FuncGateway.Model;

/// <summary>A route with everything a request needs prepared: matcher spec, rewrite, transforms, pool and forwarding settings.</summary>
public sealed class CompiledRoute
{
    internal CompiledRoute(
        RouteDefinition definition,
        UpstreamPool pool,
        TimeSpan timeout,
        FrozenDictionary<Type, object>? features = null,
        RouteTransforms? transforms = null)
    {
        _features = features ?? FrozenDictionary<Type, object>.Empty;
        Transforms = transforms ?? RouteTransforms.Empty;
        Definition = definition;
        Pool = pool;
        Timeout = timeout;
        RequestConfig = RequestConfigFor(timeout);
        List<string?>? chooserNames = null;
        foreach (var condition in definition.Query)
        {
            (chooserNames ??= []).Add(condition.Name);
        }

        foreach (var feature in _features.Values)
        {
            if (feature is IRouteResponder responder)
            {
                Responder = responder;
                responder.Attach(this);
            }

            if (feature is IRouteSelectingInput input)
            {
                foreach (var name in input.SelectingQueryParameters)
                {
                    (chooserNames ??= []).Add(name);
                }
            }
        }

        ChoosingQueryParameters = chooserNames is null ? [] : [.. chooserNames];
    }

    /// <summary>
    /// The query parameters that choose routes: this route's own <c>Query</c> conditions and what a feature chooses it
    /// by (the API version's parameter), and once the snapshot is built those of every route in it
    /// (<see cref="ShareChoosingQueryParameters"/>). A <c>;</c> that starts one of them inside another parameter reaches
    /// the upstream as <c>%3B</c> (<see cref="QueryStringEditor.Shield"/>), so a server that reads <c>;</c> as a
    /// separator cannot find a value the route was not chosen by — also on a fallback route beside the one that
    /// <c>?tier=gold</c> chooses. Empty when no route has such a parameter.
    /// </summary>
    internal string?[] ChoosingQueryParameters { get; private set; }

    /// <summary>Gives every route of a snapshot the query parameters any of them is chosen by (one shared array).</summary>
    internal static void ShareChoosingQueryParameters(IReadOnlyList<CompiledRoute> routes)
    {
        HashSet<string>? names = null;
        foreach (var route in routes)
        {
            foreach (var name in route.ChoosingQueryParameters)
            {
                if (name is not null)
                {
                    (names ??= new HashSet<string>(StringComparer.OrdinalIgnoreCase)).Add(name);
                }
            }
        }

        string?[] shared = names is null ? [] : [.. names.Order(StringComparer.OrdinalIgnoreCase)];
        foreach (var route in routes)
        {
            route.ChoosingQueryParameters = shared;
        }
    }

    // YARP's request settings are an immutable record and most routes share a timeout (the configured default): one
    // instance per timeout serves every route with it instead of one per route. Timeouts come from the registry, so
    // the cache is bounded: past MaxSharedRequestConfigs distinct values a route simply gets its own.
    private const int MaxSharedRequestConfigs = 256;
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<TimeSpan, ForwarderRequestConfig> SharedRequestConfigs = new();

    private static ForwarderRequestConfig RequestConfigFor(TimeSpan timeout)
    {
        if (SharedRequestConfigs.TryGetValue(timeout, out var shared))
        {
            return shared;
        }

        var config = new ForwarderRequestConfig { ActivityTimeout = timeout };
        return SharedRequestConfigs.Count < MaxSharedRequestConfigs ? SharedRequestConfigs.GetOrAdd(timeout, config) : config;
    }

    /// <summary>A route with no upstream of its own: the pool of a route that answers by itself (<see cref="Responder"/>).</summary>
    internal static UpstreamPool NoPool { get; } = new("(none)", [], NoInstancePolicy.Instance);

    /// <summary>What answers the route's requests instead of forwarding (a fixed response, a composition); null: forwarding.</summary>
    internal IRouteResponder? Responder { get; }

    /// <summary>
    /// A sibling of this route that sends to <paramref name="pool"/> with <paramref name="timeout"/>: the same
    /// definition, compiled features and transforms (a composition's part, which travels as the route's own request would).
    /// </summary>
    internal CompiledRoute ForPool(UpstreamPool pool, TimeSpan timeout) =>
        new(Definition, pool, timeout, _features.Where(static f => f.Value is not IRouteResponder).ToFrozenDictionary(), Transforms);

    /// <summary>The route as written.</summary>
    public RouteDefinition Definition { get; }

    /// <summary>The upstream pool (a one-instance pool for an inline URL).</summary>
    public UpstreamPool Pool { get; }

    /// <summary>Effective inactivity timeout.</summary>
    public TimeSpan Timeout { get; }

    internal ForwarderRequestConfig RequestConfig { get; }

    /// <summary>The route's ordered request and response transforms, compiled with the snapshot.</summary>
    internal RouteTransforms Transforms { get; }

    private readonly FrozenDictionary<Type, object> _features;

    /// <summary>
    /// The pipeline's post-match steps that apply to this route, worked out on the route's first request (a benign
    /// race: two requests may both compute the same list). Lives and dies with the snapshot.
    /// </summary>
    internal RouteStepPlan? StepPlan { get; set; }

    /// <summary>The per-route object a capability compiled for this route (see IRouteFeatureCompiler), or null.</summary>
    public T? GetFeature<T>()
        where T : class => _features.TryGetValue(typeof(T), out var feature) ? (T)feature : null;
}

/// <summary>The policy of <see cref="CompiledRoute.NoPool"/>, which has no instance to pick.</summary>
internal sealed class NoInstancePolicy : ILoadBalancingPolicy
{
    public static readonly NoInstancePolicy Instance = new();

    public string Name => "None";

    public UpstreamInstance? PickInstance(Microsoft.AspNetCore.Http.HttpContext context, UpstreamPool pool, IReadOnlyList<UpstreamInstance> available) => null;
}

/// <summary>The post-match steps of one pipeline (<paramref name="AllSteps"/>) that apply to one route.</summary>
internal sealed record RouteStepPlan(IGatewayStep[] AllSteps, IGatewayStep[] Steps);
