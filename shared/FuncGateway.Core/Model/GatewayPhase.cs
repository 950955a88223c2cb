namespace FuncGateway.Model;

/// <summary>
/// The phases of a request, in the order they run. Each has its own contract, so what a piece of code may see and do
/// follows from where it runs.
/// </summary>
internal enum GatewayPhase
{
    /// <summary>
    /// Before the route is acted on (<c>IGatewayPreMatchStep</c>): request id, CORS preflight, early rejects.
    /// Framing, client address and the public host check are the pipeline's own and always come first.
    /// </summary>
    PreMatch = 0,

    /// <summary>After the route is known (<see cref="IGatewayStep"/>): authentication, rate limits, validation.</summary>
    PostMatch = 1,

    /// <summary>The route's compiled request transforms: headers, path, query, identity (<c>GatewayRequestTransform</c>).</summary>
    RequestTransforms = 2,

    /// <summary>Balancing, breaker, retries and the exchange with the upstream.</summary>
    Forward = 3,

    /// <summary>The route's compiled response transforms, before the body streams (<c>GatewayResponseTransform</c>).</summary>
    ResponseTransforms = 4,

    /// <summary>After the response (<see cref="IGatewayCompletion"/>): metrics, logs, cache store. Never alters the response.</summary>
    Completion = 5,
}

/// <summary>Where a step runs: its phase, then its position within the phase (lower first).</summary>
/// <param name="Phase">The phase the step belongs to.</param>
/// <param name="Position">The position within the phase.</param>
internal readonly record struct GatewayStepOrder(GatewayPhase Phase, int Position) : IComparable<GatewayStepOrder>
{
    /// <summary>Authenticate the caller and authorize the route.</summary>
    public static GatewayStepOrder Authentication { get; } = new(GatewayPhase.PostMatch, 100);

    /// <summary>Apply the route's rate limits (partition keys may use the identity).</summary>
    public static GatewayStepOrder RateLimiting { get; } = new(GatewayPhase.PostMatch, 200);

    /// <summary>
    /// Validate the request (content type, size, JSON, schema, query and headers, injection screening). After the
    /// rate limits, so a limited client cannot make the gateway read and parse bodies; before the response cache (an
    /// invalid request is refused even when a cached answer exists) and the concurrency limit (a slot is held only by a
    /// request that will be forwarded, never while a body is buffered).
    /// </summary>
    public static GatewayStepOrder Validation { get; } = new(GatewayPhase.PostMatch, 240);

    /// <summary>
    /// Run the route's request body transforms (<c>Transforms</c>: JSON field mapping, Liquid, XML, SOAP) on the
    /// buffered body, once per request: after validation, which checks what the client sent (and whose buffer it
    /// reuses), before the cache and the concurrency limit (no slot is held while a body is read).
    /// </summary>
    public static GatewayStepOrder RequestBody { get; } = new(GatewayPhase.PostMatch, 245);

    /// <summary>
    /// Answer from the response cache: after authentication (whose identity keys per-caller entries) and rate limits
    /// (a hit still counts), before the concurrency limit (a hit or a coalesced wait takes no upstream permit).
    /// </summary>
    public static GatewayStepOrder Caching { get; } = new(GatewayPhase.PostMatch, 250);

    public int CompareTo(GatewayStepOrder other) => Phase != other.Phase ? Phase.CompareTo(other.Phase) : Position.CompareTo(other.Position);
}
