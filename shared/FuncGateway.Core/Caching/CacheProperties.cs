using FuncGateway.Model;

namespace FuncGateway.Caching;

/// <summary>The route property the response cache owns.</summary>
public static class CacheProperties
{
    /// <summary>
    /// The route's response caching (a JSON object in the entity, native JSON in a registry file, see docs/caching.md).
    /// Null: not cached.
    /// Reading an entity also checks the row's <c>Transforms</c> templates against the key, so <c>fgw validate</c>
    /// rejects what the gateway rejects.
    /// </summary>
    public static RegistryProperty<CacheDefinition?> Cache { get; } = new(
        RegistryTable.Routes, "Cache", null,
        static (RegistryEntityReader reader, string name, out CacheDefinition? value) =>
        {
            var text = reader.OptionalString(name);
            value = text is null ? null : CacheFormat.Parse(name, text, reader.Errors);
            if (value is not null)
            {
                var start = reader.Errors.Count;
                CacheFormat.CheckTransformInputs(reader.PeekString(CacheFormat.TransformsProperty), value, reader.Errors);
                value = reader.Errors.Count > start ? null : value;
            }

            return value is not null;
        },
        static value => value is null ? null : RegistryJson.ToJson(value),
        static value => value is null);

    /// <summary>Every cache property, in file order.</summary>
    public static IReadOnlyList<RegistryProperty> All { get; } = [Cache];
}
