using FuncGateway.Model;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FuncGateway.Transforms;

/// <summary>The Transforms capability: a route's own header, query, method, status and body transforms (the <c>Transforms</c> property).</summary>
public sealed class TransformsCapability : IGatewayCapability
{
    /// <inheritdoc/>
    public IEnumerable<RegistryProperty> Properties => TransformsProperties.All;

    /// <inheritdoc/>
    public void AddServices(IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton<IRouteTransformProvider>(static sp => new RouteTransformListProvider(
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILoggerFactory>().CreateLogger("FuncGateway.Transforms")));
        services.AddSingleton<IGatewayStep, RequestBodyStep>();
    }
}

/// <summary>
/// Compiles the route's <c>Transforms</c> list into its request and response transforms when the snapshot is built,
/// between the forwarding transforms and the identity transform (<see cref="RouteTransformOrder.Transforms"/>).
/// </summary>
internal sealed class RouteTransformListProvider(TimeProvider time, ILogger logger) : IRouteTransformProvider
{
    public int Order => RouteTransformOrder.Transforms;

    public void Apply(RouteTransformBuilderContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var route = context.Route;
        if (route.Get(TransformsProperties.Transforms) is not { Count: > 0 } items)
        {
            return;
        }

        // A transform must not move the route's credential parameters out of the way of the identity transform,
        // which removes them by name; read by name so that this folder depends on the model only.
        var credentials = route.Properties
            .Where(static p => TransformsProperties.CredentialPropertyNames.Contains(p.Key.Name, StringComparer.Ordinal))
            .Select(static p => p.Value as string);
        TransformCompiler.Compile(items, TransformScope.For(route.Path, credentials, time) with { Logger = logger }, context.Errors, context.RequestTransforms, context.ResponseTransforms);
    }
}
