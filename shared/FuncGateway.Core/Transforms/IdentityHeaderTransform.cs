using FuncGateway.Backend;
using Microsoft.AspNetCore.Http;

namespace FuncGateway.Transforms;

/// <summary>
/// The last word on identity headers, applied to the upstream request after YARP has copied the client's headers:
/// every header in the identity namespace or a look-alike of it (<see cref="GatewayHeaders.IsIdentityNamespace"/>) is
/// removed on every route, then the gateway's own are added and signed. YARP never copies the client's
/// <c>Connection</c> header, and any <c>Connection</c> token that names a header in the namespace is dropped here too,
/// so no hop can be told to remove what the gateway adds.
/// </summary>
internal static class IdentityHeaderTransform
{
    public static void Apply(HttpContext context, HttpRequestMessage request)
    {
        List<string>? doomed = null;
        foreach (var header in request.Headers.NonValidated)
        {
            if (GatewayHeaders.IsIdentityNamespace(header.Key))
            {
                (doomed ??= []).Add(header.Key);
            }
        }

        if (doomed is not null)
        {
            foreach (var name in doomed)
            {
                request.Headers.Remove(name);
            }
        }

        if (request.Headers.NonValidated.Contains("Connection"))
        {
            foreach (var token in request.Headers.Connection.ToArray())
            {
                if (GatewayHeaders.IsIdentityNamespace(token))
                {
                    request.Headers.Connection.Remove(token);
                }
            }
        }

        if (context.Features.Get<UpstreamIdentityFeature>() is not { } identity)
        {
            return;
        }

        foreach (var (name, value) in identity.Headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        identity.Signer.Sign(request, identity.Headers);
    }
}
