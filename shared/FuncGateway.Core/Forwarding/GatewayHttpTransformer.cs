using FuncGateway.Pipeline;
using FuncGateway.Transforms;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Net.Http.Headers;
using Yarp.ReverseProxy.Forwarder;

namespace FuncGateway.Forwarding;

/// <summary>
/// YARP's default request copy (hop-by-hop headers dropped, bodies streamed), plus the route's path rewrite and
/// forwarded headers that the gateway writes itself: every header a client may not speak for
/// (<see cref="UntrustedRequestHeaders"/>: forwarding headers and host look-alikes, override headers, the Functions
/// key, the identity namespace) is removed, never passed on as if it were the gateway's word. A client's <c>Trailer</c> announcement
/// is dropped (request trailers are never forwarded). On the way back, YARP's response copy plus the rest of the
/// hop-by-hop rule: headers the upstream names in its <c>Connection</c> header are for the gateway only.
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

        UntrustedRequestHeaders.Remove(proxyRequest, feature.Route.Definition.Get(ForwardingProperties.AllowOverrideHeader));
        var headers = proxyRequest.Headers;
        // Announces trailers the upstream would wait for in vain: request trailers are not forwarded.
        headers.Remove(HeaderNames.Trailer);

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

    public override async ValueTask<bool> TransformResponseAsync(HttpContext httpContext, HttpResponseMessage? proxyResponse, CancellationToken cancellationToken)
    {
        var copy = await base.TransformResponseAsync(httpContext, proxyResponse, cancellationToken);
        if (proxyResponse is not null && proxyResponse.Headers.NonValidated.TryGetValues(HeaderNames.Connection, out var connection))
        {
            RemoveConnectionOptions(httpContext.Response.Headers, connection, (int)proxyResponse.StatusCode);
        }

        return copy;
    }

    /// <summary>RFC 9110 §7.6.1: every header a <c>Connection</c> option names is hop-by-hop and is not passed on.</summary>
    internal static void RemoveConnectionOptions(IHeaderDictionary headers, System.Net.Http.Headers.HeaderStringValues connection, int status)
    {
        foreach (var value in connection)
        {
            foreach (var range in value.AsSpan().Split(','))
            {
                var name = value.AsSpan()[range].Trim(" \t");
                if (name.Length == 0 || name.Equals("close", StringComparison.OrdinalIgnoreCase) || name.Equals("keep-alive", StringComparison.OrdinalIgnoreCase))
                {
                    continue;
                }

                // A 101's Upgrade header is what the client switches to; YARP restores it on purpose.
                if (status == StatusCodes.Status101SwitchingProtocols && name.Equals(HeaderNames.Upgrade, StringComparison.OrdinalIgnoreCase))
                {
                    continue;
                }

                headers.Remove(name.ToString());
            }
        }
    }
}
