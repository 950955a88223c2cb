using System.Collections.Frozen;
using FuncGateway.Model;

namespace FuncGateway.Versioning;

/// <summary>
/// On a route of a <c>Header</c> version set: the client's look-alikes of the version header (<c>Api_Version</c>,
/// <c>api.version</c> for <c>Api-Version</c>) do not reach the upstream. The gateway chose the route by the header
/// itself; a backend that maps <c>Api_Version</c> and <c>Api-Version</c> to one variable (CGI, PHP, Django) would
/// otherwise read a version the gateway did not route on.
/// </summary>
internal sealed class VersionHeaderTransformProvider : IRouteTransformProvider
{
    /// <summary>With the forwarding transforms' other removals, before the route's own transforms.</summary>
    public int Order => RouteTransformOrder.Forwarding + 20;

    public void Apply(RouteTransformBuilderContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.GetFeature<RouteApiVersion>() is { Set.Scheme: ApiVersionScheme.Header } version)
        {
            context.RequestTransforms.Add(new VersionHeaderTransform(version.Set.Parameter));
        }
    }
}

/// <summary>Removes every request header that normalises like <c>header</c> without being it (any case).</summary>
internal sealed class VersionHeaderTransform(string header) : GatewayRequestTransform
{
    private readonly FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>> _normalized = UntrustedRequestHeaders.Normalize([header]);

    public override ValueTask ApplyAsync(GatewayRequestTransformContext context)
    {
        List<string>? lookAlikes = null;
        foreach (var (name, _) in context.ProxyRequest.Headers.NonValidated)
        {
            if (!name.Equals(header, StringComparison.OrdinalIgnoreCase) && UntrustedRequestHeaders.IsIn(_normalized, name))
            {
                (lookAlikes ??= []).Add(name);
            }
        }

        foreach (var name in lookAlikes ?? [])
        {
            RemoveHeader(context, name);
        }

        return ValueTask.CompletedTask;
    }
}
