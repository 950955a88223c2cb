using System.Collections.Immutable;

namespace FuncGateway.Model;

/// <summary>
/// Contributes a capability's request and response transforms to a route when a snapshot is built (as YARP's
/// <c>ITransformProvider</c> does). Providers run in <see cref="Order"/>; each appends to the route's lists, so the
/// order of the lists is the order of the providers, then of their additions.
/// </summary>
internal interface IRouteTransformProvider
{
    /// <summary>Position among providers (lower first); see <see cref="RouteTransformOrder"/>.</summary>
    int Order { get; }

    /// <summary>Adds the route's transforms. Every problem goes to <see cref="RouteTransformBuilderContext.Errors"/>; any rejects the row.</summary>
    void Apply(RouteTransformBuilderContext context);
}

/// <summary>The order of the built-in transform providers, defined in one place.</summary>
internal static class RouteTransformOrder
{
    /// <summary>Path rewrite, untrusted headers, <c>X-Forwarded-*</c>, <c>Host</c>; the Connection-option rule on the way back.</summary>
    public const int Forwarding = 100;

    /// <summary>
    /// <c>X-Request-Id</c> and the trace context: after the cache's request filter (<c>Forwarding + 50</c>), which keeps
    /// only keyed client input on a request that may be stored, so that the gateway's own ids reach the upstream there too.
    /// </summary>
    public const int TraceContext = 200;

    /// <summary>
    /// The route's own <c>Transforms</c> list (headers, query, method; status and headers on the way back): after the
    /// forwarding transforms, so it sees the gateway's <c>X-Forwarded-*</c> and final <c>Host</c>; before the identity
    /// transform, which must see the final path and query and have the last word on identity headers.
    /// </summary>
    public const int Transforms = 500;

    /// <summary>The user context: credentials removed, identity headers added and signed. Last, because the signature covers the final path and query.</summary>
    public const int Identity = 1000;
}

/// <summary>What a transform provider sees of the route being compiled, and the lists it adds to.</summary>
internal sealed class RouteTransformBuilderContext
{
    private readonly IReadOnlyDictionary<Type, object>? _features;

    internal RouteTransformBuilderContext(RouteDefinition route, IReadOnlyDictionary<Type, object>? features, List<string> errors)
    {
        Route = route;
        _features = features;
        Errors = errors;
    }

    /// <summary>The route as written (methods normalized).</summary>
    public RouteDefinition Route { get; }


    /// <summary>Where problems go.</summary>
    public List<string> Errors { get; }

    public List<GatewayRequestTransform> RequestTransforms { get; } = [];

    public List<GatewayResponseTransform> ResponseTransforms { get; } = [];

    /// <summary>The per-route object another capability compiled for this route (<see cref="IRouteFeatureCompiler"/>), or null.</summary>
    public T? GetFeature<T>()
        where T : class => _features is not null && _features.TryGetValue(typeof(T), out var feature) ? (T)feature : null;
}

/// <summary>A route's compiled transforms: immutable, built with the snapshot, shared by every request.</summary>
internal sealed class RouteTransforms
{
    public RouteTransforms(ImmutableArray<GatewayRequestTransform> request, ImmutableArray<GatewayResponseTransform> response)
    {
        Request = request;
        Response = response;
        foreach (var transform in response)
        {
            BuffersResponseBody |= transform.NeedsBody;
        }
    }

    /// <summary>No transforms: the base copy only (tools and tests that compile routes without providers).</summary>
    public static RouteTransforms Empty { get; } = new([], []);

    public ImmutableArray<GatewayRequestTransform> Request { get; }

    public ImmutableArray<GatewayResponseTransform> Response { get; }

    /// <summary>True when a response transform needs the body: the route's responses are buffered up to the cap.</summary>
    public bool BuffersResponseBody { get; }

    public static RouteTransforms Build(IReadOnlyList<IRouteTransformProvider> providers, RouteTransformBuilderContext context)
    {
        ArgumentNullException.ThrowIfNull(providers);
        ArgumentNullException.ThrowIfNull(context);
        foreach (var provider in providers)
        {
            provider.Apply(context);
        }

        return context.RequestTransforms.Count == 0 && context.ResponseTransforms.Count == 0
            ? Empty
            : new RouteTransforms([.. context.RequestTransforms], [.. context.ResponseTransforms]);
    }
}
