using Microsoft.AspNetCore.Http;

namespace FuncGateway.Model;

/// <summary>
/// One step of a route's response transforms, compiled once per route and run after YARP's copy of the upstream's
/// status and headers, before the body streams. Modelled on YARP's <c>ResponseTransform</c>.
/// </summary>
internal abstract class GatewayResponseTransform
{
    /// <summary>
    /// True when the transform must see (or replace) the response body: the route then buffers bodies up to
    /// <c>FuncGateway:Forwarding:MaxBufferedResponseBytes</c>. Routes whose transforms all say false stream.
    /// </summary>
    public virtual bool NeedsBody => false;

    public abstract ValueTask ApplyAsync(GatewayResponseTransformContext context);
}

/// <summary>
/// What a response transform works on: the upstream's response (null when there was none) and the client's response,
/// whose status and headers are already copied from it and can still be changed. Modelled on YARP's
/// <c>ResponseTransformContext</c>.
/// </summary>
internal sealed class GatewayResponseTransformContext
{
    private ReadOnlyMemory<byte> _body;

    internal GatewayResponseTransformContext(
        HttpContext httpContext, HttpResponseMessage? proxyResponse, GatewayRequestFeature feature, ReadOnlyMemory<byte>? body, CancellationToken cancellationToken)
    {
        HttpContext = httpContext;
        ProxyResponse = proxyResponse;
        Feature = feature;
        CancellationToken = cancellationToken;
        IsBodyBuffered = body.HasValue;
        _body = body ?? ReadOnlyMemory<byte>.Empty;
    }

    public HttpContext HttpContext { get; }

    /// <summary>The upstream's response; null when the gateway produced none (the upstream could not be reached).</summary>
    public HttpResponseMessage? ProxyResponse { get; }

    public GatewayRequestFeature Feature { get; }

    public CancellationToken CancellationToken { get; }

    /// <summary>True when the route buffers bodies (a transform <see cref="GatewayResponseTransform.NeedsBody"/>) and <see cref="Body"/> holds it.</summary>
    public bool IsBodyBuffered { get; }

    /// <summary>The buffered upstream body; empty unless <see cref="IsBodyBuffered"/>. Set it to send another body.</summary>
    public ReadOnlyMemory<byte> Body
    {
        get => _body;
        set
        {
            if (!IsBodyBuffered)
            {
                throw new InvalidOperationException("The response body is streamed on this route: no transform declared NeedsBody.");
            }

            _body = value;
            BodyChanged = true;
        }
    }

    /// <summary>True once a transform has replaced <see cref="Body"/>.</summary>
    public bool BodyChanged { get; private set; }

    /// <summary>
    /// Set by a transform that replaced the upstream's answer with the gateway's own error (a body it could not
    /// transform): the transforms after it do not run.
    /// </summary>
    public bool IsRefused { get; set; }

    /// <summary>Set by a transform to send no body at all.</summary>
    public bool SuppressResponseBody { get; set; }
}
