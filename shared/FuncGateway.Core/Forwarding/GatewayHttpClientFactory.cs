using FuncGateway.Model;
using System.Net;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;

namespace FuncGateway.Forwarding;

/// <summary>
/// Builds the one long-lived, pooled upstream client on YARP's tuned <see cref="SocketsHttpHandler"/> (no proxy,
/// no redirects, no decompression, no cookies), adding our connect timeout, connection lifetimes and the connect-time
/// guard against metadata addresses; and the client for upgrade requests, whose connections are never pooled.
/// </summary>
internal sealed class GatewayHttpClientFactory(IOptions<GatewayOptions> options, ILogger<ForwarderHttpClientFactory> logger)
    : ForwarderHttpClientFactory(logger)
{
    private const string PoolingKey = "FuncGateway.Pooling";
    private const string NoPooling = "off";

    public HttpMessageInvoker CreateClient() => CreateClient(new ForwarderHttpClientContext { NewConfig = HttpClientConfig.Empty });

    /// <summary>
    /// The client for upgrade requests. Each request gets a new connection, and the connection is closed when the
    /// response is done instead of going back to a pool (a zero <see cref="SocketsHttpHandler.PooledConnectionLifetime"/>:
    /// SocketsHttpHandler disposes a connection on return when its lifetime is zero). An upgrade the upstream refused
    /// may have left that connection in a state the upstream treats as a tunnel; it must never carry another request.
    /// </summary>
    public HttpMessageInvoker CreateUpgradeClient() => CreateClient(new ForwarderHttpClientContext
    {
        NewConfig = HttpClientConfig.Empty,
        NewMetadata = new Dictionary<string, string>(StringComparer.Ordinal) { [PoolingKey] = NoPooling },
    });

    protected override void ConfigureHandler(ForwarderHttpClientContext context, SocketsHttpHandler handler)
    {
        base.ConfigureHandler(context, handler);
        var forwarding = options.Value.Forwarding;
        handler.UseProxy = false;
        handler.AllowAutoRedirect = false;
        handler.AutomaticDecompression = DecompressionMethods.None;
        handler.UseCookies = false;

        // Trace context is the gateway's to write (TraceContextTransform): no DiagnosticsHandler injecting it again.
        handler.ActivityHeadersPropagator = null;
        handler.ConnectTimeout = TimeSpan.FromSeconds(forwarding.ConnectTimeoutSeconds);

        // A finite lifetime makes pooled connections re-resolve DNS, so an upstream that moves is followed.
        handler.PooledConnectionLifetime = TimeSpan.FromSeconds(forwarding.PooledConnectionLifetimeSeconds);
        handler.PooledConnectionIdleTimeout = TimeSpan.FromSeconds(forwarding.PooledConnectionIdleTimeoutSeconds);

        // Whatever a name resolves to, never an unspecified, link-local or cloud metadata address.
        handler.ConnectCallback = UpstreamAllowlist.ConnectAsync;
        if (context.NewMetadata is not null && context.NewMetadata.TryGetValue(PoolingKey, out var pooling) && pooling == NoPooling)
        {
            handler.PooledConnectionLifetime = TimeSpan.Zero;
        }
    }
}
