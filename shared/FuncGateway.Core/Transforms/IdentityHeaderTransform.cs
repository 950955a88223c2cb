using Microsoft.AspNetCore.Http;

namespace FuncGateway.Transforms;

/// <summary>
/// The last word on identity headers, applied to the upstream request after <see cref="UntrustedRequestHeaders"/> has
/// removed every client header in the identity namespace (and its look-alikes) on every route: the gateway's own
/// headers are added and signed.
/// </summary>
internal static class IdentityHeaderTransform
{
    public static void Apply(HttpContext context, HttpRequestMessage request)
    {
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
