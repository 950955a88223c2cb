using FuncGateway.Pipeline;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Yarp.ReverseProxy.Forwarder;

namespace FuncGateway.Forwarding;

/// <summary>
/// YARP's default request copy (hop-by-hop headers dropped, bodies streamed), plus the route's path rewrite and
/// forwarded headers that the gateway writes itself: whatever the client sent as <c>X-Forwarded-*</c> or
/// <c>Forwarded</c> is removed, never passed on as if it were the gateway's word.
/// </summary>
internal sealed class GatewayHttpTransformer : HttpTransformer
{
    internal static readonly string[] ClientForwardingHeaders =
    [
        "X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "X-Forwarded-Port", "X-Forwarded-Prefix", "Forwarded",
    ];

    public static GatewayHttpTransformer Instance { get; } = new();

    public override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
    {
        var feature = httpContext.Features.GetRequiredFeature<GatewayRequestFeature>();
        var request = httpContext.Request;
        var path = feature.Route.Rewriter.Rewrite(request.Path, feature.RouteValues);
        proxyRequest.RequestUri = RequestUtilities.MakeDestinationAddress(destinationPrefix, path, request.QueryString);

        await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken);

        var headers = proxyRequest.Headers;
        foreach (var name in ClientForwardingHeaders)
        {
            headers.Remove(name);
        }

        if (feature.ClientAddress is { } client)
        {
            headers.TryAddWithoutValidation("X-Forwarded-For", client.ToString());
        }

        headers.TryAddWithoutValidation("X-Forwarded-Proto", feature.ClientScheme);
        if (request.Host.HasValue)
        {
            headers.TryAddWithoutValidation("X-Forwarded-Host", request.Host.Value);
        }

        // The base copy keeps the client's Host; the upstream sees its own unless the route asks otherwise.
        headers.Host = feature.Route.Definition.PreserveHost && request.Host.HasValue ? request.Host.Value : null;

        // [#3 identity] Client headers in the identity namespace go; the gateway's user context (signed) comes in.
        Transforms.IdentityHeaderTransform.Apply(httpContext, proxyRequest);
    }
}
