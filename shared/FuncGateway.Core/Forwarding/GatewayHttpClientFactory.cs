using System.Net;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;

namespace FuncGateway.Forwarding;

/// <summary>
/// Builds the one long-lived, pooled upstream client on YARP's tuned <see cref="SocketsHttpHandler"/> (no proxy,
/// no redirects, no decompression, no cookies), adding our connect timeout, connection lifetimes and the connect-time
/// guard against metadata addresses.
/// </summary>
internal sealed class GatewayHttpClientFactory(IOptions<GatewayOptions> options, ILogger<ForwarderHttpClientFactory> logger)
    : ForwarderHttpClientFactory(logger)
{
    public HttpMessageInvoker CreateClient() => CreateClient(new ForwarderHttpClientContext { NewConfig = HttpClientConfig.Empty });

    protected override void ConfigureHandler(ForwarderHttpClientContext context, SocketsHttpHandler handler)
    {
        base.ConfigureHandler(context, handler);
        var forwarding = options.Value.Forwarding;
        handler.UseProxy = false;
        handler.AllowAutoRedirect = false;
        handler.AutomaticDecompression = DecompressionMethods.None;
        handler.UseCookies = false;
        handler.ConnectTimeout = TimeSpan.FromSeconds(forwarding.ConnectTimeoutSeconds);

        // A finite lifetime makes pooled connections re-resolve DNS, so an upstream that moves is followed.
        handler.PooledConnectionLifetime = TimeSpan.FromSeconds(forwarding.PooledConnectionLifetimeSeconds);
        handler.PooledConnectionIdleTimeout = TimeSpan.FromSeconds(forwarding.PooledConnectionIdleTimeoutSeconds);

        // Whatever a name resolves to, never a link-local or cloud metadata address.
        handler.ConnectCallback = UpstreamAllowlist.ConnectAsync;
    }
}
