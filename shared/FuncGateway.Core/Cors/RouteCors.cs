using FuncGateway.Model;

namespace FuncGateway.Cors;

/// <summary>A route's CORS policy, compiled with its snapshot.</summary>
internal sealed class RouteCors(GatewayCorsPolicy policy)
{
    public GatewayCorsPolicy Policy { get; } = policy;
}

/// <summary>Compiles a route's <c>Cors</c> property: the name must be a configured policy, or the row is rejected.</summary>
internal sealed class CorsRouteCompiler(CorsPolicies policies) : IRouteFeatureCompiler
{
    public object? Compile(RouteDefinition route, List<string> errors)
    {
        ArgumentNullException.ThrowIfNull(route);
        ArgumentNullException.ThrowIfNull(errors);
        var name = route.Get(CorsProperties.Cors);
        if (name is null)
        {
            return null;
        }

        if (policies.TryGet(name, out var policy))
        {
            return new RouteCors(policy);
        }

        errors.Add(policies.Names.Count == 0
            ? $"Cors names policy '{PrintableText.Of(name)}', but no CORS policy is configured ({CorsSettings.SectionName}:Policies)."
            : $"Cors names unknown policy '{PrintableText.Of(name)}'. Configured policies: {string.Join(", ", policies.Names)}.");
        return null;
    }
}
