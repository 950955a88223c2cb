using System.Text.Json.Serialization.Metadata;
using FuncGateway.Model;

namespace FuncGateway.Configuration;

/// <summary>
/// Makes the capabilities' properties members of <see cref="RouteDefinition"/> and <see cref="UpstreamDefinition"/>
/// in a registry file's JSON contract, so the serializer reads them with the file's own strictness (unknown members,
/// nulls, types, positions in messages) and a property outside the schema stays an unknown member.
/// </summary>
public static class RegistryFileContract
{
    /// <summary>A <see cref="DefaultJsonTypeInfoResolver"/> modifier that adds <paramref name="schema"/>'s properties.</summary>
    public static Action<JsonTypeInfo> Modifier(RegistrySchema schema)
    {
        ArgumentNullException.ThrowIfNull(schema);
        return typeInfo =>
        {
            if (typeInfo.Kind != JsonTypeInfoKind.Object)
            {
                return;
            }

            if (typeInfo.Type == typeof(RouteDefinition))
            {
                Add(typeInfo, schema.RouteProperties, static o => ((RouteDefinition)o).Properties, static (o, p, v) => ((RouteDefinition)o).SetWhileReading(p, v));
            }
            else if (typeInfo.Type == typeof(UpstreamDefinition))
            {
                Add(typeInfo, schema.UpstreamProperties, static o => ((UpstreamDefinition)o).Properties, static (o, p, v) => ((UpstreamDefinition)o).SetWhileReading(p, v));
            }
        };
    }

    private static void Add(
        JsonTypeInfo typeInfo,
        IEnumerable<RegistryProperty> properties,
        Func<object, RegistryPropertyValues> values,
        Action<object, RegistryProperty, object?> set)
    {
        foreach (var property in properties)
        {
            var member = typeInfo.CreateJsonPropertyInfo(property.ValueType, property.FileName);
            member.Get = o => values(o).GetValue(property);
            member.Set = (o, v) => set(o, property, v);
            member.ShouldSerialize = (_, v) => !property.IsDefault(v);
            member.CustomConverter = property.FileConverter;
            member.IsSetNullable = property.DefaultValue is null;
            typeInfo.Properties.Add(member);
        }
    }
}
