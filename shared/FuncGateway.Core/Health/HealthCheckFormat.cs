using FuncGateway.Model;

namespace FuncGateway.Health;

/// <summary>The table format of a pool's <c>HealthCheck</c>: a JSON object in a string property, validated in full.</summary>
internal static class HealthCheckFormat
{
    public const string Example = "{\"path\":\"/health\",\"expectedStatus\":\"200-299\",\"timeoutSeconds\":2,\"intervalSeconds\":10,\"unhealthyThreshold\":3,\"healthyThreshold\":2}";

    /// <summary>Reads and validates the JSON; null when invalid (then with errors).</summary>
    public static HealthCheckDefinition? Parse(string json, List<string> errors)
    {
        var definition = RegistryJson.ParseObject<HealthCheckDefinition>(HealthProperties.HealthCheck.Name, json, Example, errors);
        return definition is not null && HealthCheckSettings.Create(definition, errors) is not null ? definition : null;
    }

    public static string ToJson(HealthCheckDefinition value) => RegistryJson.ToJson(value);
}
