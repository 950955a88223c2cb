using FuncGateway.Model;

namespace FuncGateway.Health;

/// <summary>The pool property health checking owns.</summary>
public static class HealthProperties
{
    /// <summary>Active health checking of a pool (JSON object). Null: the pool is not probed.</summary>
    public static RegistryProperty<HealthCheckDefinition?> HealthCheck { get; } =
        RegistryProperties.Json<HealthCheckDefinition>(RegistryTable.Upstreams, "HealthCheck", HealthCheckFormat.Parse, HealthCheckFormat.ToJson);

    /// <summary>Every health property, in file order.</summary>
    public static IReadOnlyList<RegistryProperty> All { get; } = [HealthCheck];
}
