using FuncGateway.Model;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace FuncGateway.Validation;

/// <summary>The Validation capability: the route's <c>Validation</c> property, the Schemas table and the validation step.</summary>
public sealed class ValidationCapability : IGatewayCapability
{
    /// <inheritdoc/>
    public IEnumerable<RegistryProperty> Properties => ValidationProperties.All;

    /// <inheritdoc/>
    public void AddServices(IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton<IRegistryTableCompiler, SchemaTableCompiler>();
        services.AddSingleton<IRouteFeatureCompiler>(static sp => new RouteValidationCompiler(sp.GetRequiredService<IOptions<GatewayOptions>>().Value.Forwarding.MaxRequestBodySizeBytes));
        services.AddSingleton<IGatewayStep, ValidationStep>();
    }
}

/// <summary>Compiles a route's <c>Validation</c> against the snapshot's schemas (null for a route without one).</summary>
internal sealed class RouteValidationCompiler(long globalMaxBodyBytes) : IRouteFeatureCompiler
{
    public object? Compile(RouteDefinition route, List<string> errors) => Compile(route, SnapshotTables.Empty, errors);

    public object? Compile(RouteDefinition route, SnapshotTables tables, List<string> errors)
    {
        ArgumentNullException.ThrowIfNull(route);
        ArgumentNullException.ThrowIfNull(tables);
        return route.Get(ValidationProperties.Validation) is { } definition
            ? RouteValidation.Create(definition, tables.Get<RequestSchemas>() ?? RequestSchemas.Empty, globalMaxBodyBytes, errors)
            : null;
    }
}
