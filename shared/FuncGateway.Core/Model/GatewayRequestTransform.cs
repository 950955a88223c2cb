using Microsoft.AspNetCore.Http;

namespace FuncGateway.Model;

/// <summary>
/// One step of a route's request transforms, compiled once per route (<see cref="IRouteTransformProvider"/>) and run
/// for every attempt after YARP's base copy of the request, in order. Modelled on YARP's <c>RequestTransform</c>.
/// </summary>
internal abstract class GatewayRequestTransform
{
    public abstract ValueTask ApplyAsync(GatewayRequestTransformContext context);

    /// <summary>Removes a header from the upstream request, wherever the base copy put it (request or content headers).</summary>
    public static void RemoveHeader(GatewayRequestTransformContext context, string name)
    {
        ArgumentNullException.ThrowIfNull(context);

        // Looked up first: HttpHeaders.Remove throws for a name that belongs to the other collection (Content-Type).
        var request = context.ProxyRequest;
        if (request.Headers.NonValidated.Contains(name))
        {
            request.Headers.Remove(name);
        }
        else if (request.Content is { } content && content.Headers.NonValidated.Contains(name))
        {
            content.Headers.Remove(name);
        }
    }
}

/// <summary>
/// What a request transform works on: the client's request, the upstream request after the base copy, and the
/// parts of the destination address (prefix, path, query) that become its URI once every transform has run.
/// Modelled on YARP's <c>RequestTransformContext</c>; one per attempt.
/// </summary>
internal sealed class GatewayRequestTransformContext
{
    internal GatewayRequestTransformContext(
        HttpContext httpContext, HttpRequestMessage proxyRequest, GatewayRequestFeature feature, string destinationPrefix, CancellationToken cancellationToken)
    {
        HttpContext = httpContext;
        ProxyRequest = proxyRequest;
        Feature = feature;
        DestinationPrefix = destinationPrefix;
        CancellationToken = cancellationToken;
        Path = httpContext.Request.Path;
        Query = httpContext.Request.QueryString;
    }

    /// <summary>The client's request (read it; transforms change the upstream request, never this one).</summary>
    public HttpContext HttpContext { get; }

    /// <summary>The upstream request: method, version, body and the headers of the base copy.</summary>
    public HttpRequestMessage ProxyRequest { get; }

    /// <summary>The gateway's request state: route, route values, client, identity.</summary>
    public GatewayRequestFeature Feature { get; }

    /// <summary>The chosen instance's URL (scheme, host, port, optional base path).</summary>
    public string DestinationPrefix { get; }

    /// <summary>The upstream path (decoded, as <see cref="HttpRequest.Path"/>); the client's path until a transform changes it.</summary>
    public PathString Path { get; set; }

    /// <summary>The upstream query, as sent by the client until a transform changes it.</summary>
    public QueryString Query { get; set; }

    public CancellationToken CancellationToken { get; }

    /// <summary>
    /// Sets the upstream request's URI from <see cref="DestinationPrefix"/>, <see cref="Path"/> and <see cref="Query"/>
    /// and returns it: for a transform that must see the final address (the context signature). The transformer
    /// does this itself after the last transform.
    /// </summary>
    public Uri BuildRequestUri() =>
        ProxyRequest.RequestUri = UpstreamAddress.Make(DestinationPrefix, Path, Query, HttpContext);
}
