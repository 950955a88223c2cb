using FuncGateway.Model;

namespace FuncGateway.RouteGroups;

/// <summary>The route property route groups own.</summary>
public static class RouteGroupsProperties
{
    /// <summary>
    /// The groups a route belongs to: comma-separated names (or a JSON array), each 1-64 letters and digits with single
    /// '_' between them, compared case-insensitively. A gateway with <c>FuncGateway:Registry:Groups</c> serves only
    /// routes that name one of its groups; a gateway without it serves every route. Empty: the route is in no group.
    /// </summary>
    public static RegistryProperty<IReadOnlyList<string>> Groups { get; } = RegistryProperties.Names(RegistryTable.Routes, "Groups", Check);

    /// <summary>Every route-groups property, in file order.</summary>
    public static IReadOnlyList<RegistryProperty> All { get; } = [Groups];

    /// <summary>Checks group names: every bad one is an error; a repeated one (in any case) is dropped.</summary>
    internal static IReadOnlyList<string> Check(IReadOnlyList<string> names, List<string> errors)
    {
        var kept = new List<string>(names.Count);
        foreach (var name in names)
        {
            if (!ConfigurationNames.IsValid(name))
            {
                errors.Add(ConfigurationNames.Describe("Groups", "group", name));
                continue;
            }

            if (!kept.Contains(name, StringComparer.OrdinalIgnoreCase))
            {
                kept.Add(name);
            }
        }

        return kept;
    }
}
