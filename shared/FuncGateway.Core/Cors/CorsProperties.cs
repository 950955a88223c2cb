using FuncGateway.Model;

namespace FuncGateway.Cors;

/// <summary>The route property CORS owns.</summary>
public static class CorsProperties
{
    /// <summary>The name of the CORS policy (<c>FuncGateway:Cors:Policies</c>) whose origins may call the route from a browser. Absent: the gateway takes no part in CORS on the route.</summary>
    public static RegistryProperty<string?> Cors { get; } = RegistryProperties.Text(RegistryTable.Routes, "Cors");

    /// <summary>Every CORS property, in file order.</summary>
    public static IReadOnlyList<RegistryProperty> All { get; } = [Cors];
}
