using FuncGateway.Model;

namespace FuncGateway.Cli;

/// <summary>Which sections of the registry a command works on.</summary>
[Flags]
internal enum RegistrySections
{
    None = 0,
    Upstreams = 1,
    Routes = 2,
    All = Upstreams | Routes,
}

internal static class RegistrySectionsExtensions
{
    public static bool Includes(this RegistrySections sections, RegistryTable table) =>
        (sections & (table == RegistryTable.Routes ? RegistrySections.Routes : RegistrySections.Upstreams)) != 0;

    /// <summary>How a row of this table is named in messages: <c>route</c> or <c>upstream</c>.</summary>
    public static string Noun(this RegistryTable table) => table == RegistryTable.Routes ? "route" : "upstream";

    /// <summary>The section's property name in the file: <c>routes</c> or <c>upstreams</c>.</summary>
    public static string SectionName(this RegistryTable table) => table == RegistryTable.Routes ? "routes" : "upstreams";
}
