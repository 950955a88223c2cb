using FuncGateway.Model;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace FuncGateway.Transforms;

/// <summary>The Transforms capability: a route's own header, query, method and status transforms (the <c>Transforms</c> property).</summary>
public sealed class TransformsCapability : IGatewayCapability
{
    /// <inheritdoc/>
    public IEnumerable<RegistryProperty> Properties => TransformsProperties.All;

    /// <inheritdoc/>
    public void AddServices(IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton<IRouteTransformProvider>(static sp => new RouteTransformListProvider(sp.GetRequiredService<TimeProvider>()));
    }
}

/// <summary>
/// Compiles the route's <c>Transforms</c> list into its request and response transforms when the snapshot is built,
/// between the forwarding transforms and the identity transform (<see cref="RouteTransformOrder.Transforms"/>).
/// </summary>
internal sealed class RouteTransformListProvider(TimeProvider time) : IRouteTransformProvider
{
    // Owned by Authentication; read by name so this folder depends on the model only. A transform must not move these
    // credentials out of the way of the identity transform, which removes them by name.
    private static readonly string[] CredentialQueryProperties = ["TokenQueryParameter", "ApiKeyQueryParameter"];

    public int Order => RouteTransformOrder.Transforms;

    public void Apply(RouteTransformBuilderContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var route = context.Route;
        if (route.Get(TransformsProperties.Transforms) is not { Count: > 0 } items)
        {
            return;
        }

        var scope = new TransformScope(RouteParameters(route.Path), CredentialQueryParameters(route), time);
        TransformCompiler.Compile(items, scope, context.Errors, context.RequestTransforms, context.ResponseTransforms);
    }

    private static string[]? RouteParameters(string path)
    {
        try
        {
            return [.. RoutePatternFactory.Parse(path).Parameters.Select(static p => p.Name)];
        }
        catch (RoutePatternException)
        {
            // Routing rejects the template with its own reason.
            return null;
        }
    }

    private static string[] CredentialQueryParameters(RouteDefinition route)
    {
        var names = new List<string>(2);
        foreach (var (property, value) in route.Properties)
        {
            if (value is string name && CredentialQueryProperties.Contains(property.Name, StringComparer.Ordinal))
            {
                names.Add(name);
            }
        }

        return [.. names];
    }
}
