using FuncGateway.Model;

namespace FuncGateway.Core.Tests.Configuration;

/// <summary>Builds registry rows the way the table returns them.</summary>
internal static class RegistryRows
{
    /// <summary>A route row; anonymous (<c>Auth = anonymous</c>) unless <paramref name="more"/> sets Auth (null removes it).</summary>
    public static RegistryRow Route(string id, string path, string upstream, params (string Name, object? Value)[] more) =>
        Row(RegistryTable.Routes, "default", id, [("Path", path), ("Upstream", upstream), ("Auth", "anonymous"), .. more]);

    public static RegistryRow Upstream(string name, string instancesJson, params (string Name, object? Value)[] more) =>
        Row(RegistryTable.Upstreams, "default", name, [("Instances", instancesJson), .. more]);

    public static RegistryRow Row(RegistryTable table, string partition, string rowKey, params (string Name, object? Value)[] properties)
    {
        var bag = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (name, value) in properties)
        {
            if (name == "Auth" && value is null)
            {
                bag.Remove(name);
                continue;
            }

            bag[name] = value;
        }

        return new RegistryRow(table, partition, rowKey, bag, ETag: $"W/\"{Guid.NewGuid()}\"");
    }
}
