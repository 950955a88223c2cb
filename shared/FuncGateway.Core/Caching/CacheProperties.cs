using FuncGateway.Model;

namespace FuncGateway.Caching;

/// <summary>The route property the response cache owns.</summary>
public static class CacheProperties
{
    /// <summary>The route's response caching (a JSON object, see docs/caching.md). Null: not cached.</summary>
    public static RegistryProperty<CacheDefinition?> Cache { get; } =
        RegistryProperties.Json<CacheDefinition>(RegistryTable.Routes, "Cache", static (json, errors) => CacheFormat.Parse("Cache", json, errors), RegistryJson.ToJson);

    /// <summary>Every cache property, in file order.</summary>
    public static IReadOnlyList<RegistryProperty> All { get; } = [Cache];
}
