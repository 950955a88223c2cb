using FuncGateway.Pipeline;
using FuncGateway.Transforms;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Yarp.ReverseProxy.Forwarder;

namespace FuncGateway.Forwarding;

/// <summary>
/// YARP's default request copy (hop-by-hop headers dropped, bodies streamed), plus the route's path rewrite and
/// forwarded headers that the gateway writes itself: every header a client may not speak for
/// (<see cref="UntrustedRequestHeaders"/>: forwarding headers and host look-alikes, override headers, the Functions
/// key, the identity namespace) is removed, never passed on as if it were the gateway's word.
/// </summary>
internal sealed class GatewayHttpTransformer : HttpTransformer
{
    public static GatewayHttpTransformer Instance { get; } = new();

    public override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
    {
        var feature = httpContext.Features.GetRequiredFeature<GatewayRequestFeature>();
        var request = httpContext.Request;
        var path = feature.Route.Rewriter.Rewrite(request.Path, feature.RouteValues);
        proxyRequest.RequestUri = RequestUtilities.MakeDestinationAddress(destinationPrefix, path, request.QueryString);

        await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken);

        UntrustedRequestHeaders.Remove(proxyRequest, feature.Route.Definition.AllowOverrideHeader);
        var headers = proxyRequest.Headers;
        if (feature.ClientAddress is { } client)
        {
            headers.TryAddWithoutValidation("X-Forwarded-For", client.ToString());
        }

        headers.TryAddWithoutValidation("X-Forwarded-Proto", feature.ClientScheme);

        // Only a host that matched FuncGateway:Forwarding:PublicHosts: an upstream builds links and redirects from it.
        if (feature.PublicHost is { } host)
        {
            headers.TryAddWithoutValidation("X-Forwarded-Host", host);
        }

        // The base copy keeps the client's Host; the upstream sees its own unless the route asks otherwise.
        headers.Host = feature.Route.Definition.PreserveHost && request.Host.HasValue ? request.Host.Value : null;

        // [#3 identity] The gateway's user context (signed) comes in.
        IdentityHeaderTransform.Apply(httpContext, proxyRequest);
    }
}
