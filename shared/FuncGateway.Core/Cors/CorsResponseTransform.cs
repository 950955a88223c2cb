using FuncGateway.Model;

namespace FuncGateway.Cors;

/// <summary>Adds <see cref="CorsResponseTransform"/> to every route with a <c>Cors</c> policy.</summary>
internal sealed class CorsTransformProvider : IRouteTransformProvider
{
    public int Order => RouteTransformOrder.Forwarding + 10;

    public void Apply(RouteTransformBuilderContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.GetFeature<RouteCors>() is not null)
        {
            context.ResponseTransforms.Add(CorsResponseTransform.Instance);
        }
    }
}

/// <summary>
/// Removes every <c>Access-Control-*</c> header the upstream sent: on a CORS route the gateway's policy is the only one
/// a browser sees (<see cref="CorsStep"/> adds it as the response starts).
/// </summary>
internal sealed class CorsResponseTransform : GatewayResponseTransform
{
    public static CorsResponseTransform Instance { get; } = new();

    private const string Prefix = "Access-Control-";

    public override ValueTask ApplyAsync(GatewayResponseTransformContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var headers = context.HttpContext.Response.Headers;
        List<string>? remove = null;
        foreach (var name in headers.Keys)
        {
            if (name.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase))
            {
                (remove ??= []).Add(name);
            }
        }

        if (remove is not null)
        {
            foreach (var name in remove)
            {
                headers.Remove(name);
            }
        }

        return ValueTask.CompletedTask;
    }
}
