using System.Collections.Frozen;
using FuncGateway.Model;

namespace FuncGateway.RouteGroups;

/// <summary>
/// Serves the routes of a gateway's groups (<c>FuncGateway:Registry:Groups</c>): a route is served when one of its
/// <c>Groups</c> is one of the gateway's, compared case-insensitively. A gateway without groups has no filter and
/// serves every route.
/// </summary>
internal sealed class RouteGroupFilter : IRouteFilter
{
    private readonly FrozenSet<string> _groups;

    public RouteGroupFilter(IEnumerable<string> groups)
    {
        ArgumentNullException.ThrowIfNull(groups);
        _groups = groups.ToFrozenSet(StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>The gateway's groups.</summary>
    public IReadOnlyCollection<string> Groups => _groups;

    /// <summary>The groups of a comma-separated setting, trimmed, without empty items; every invalid name is an error.</summary>
    public static IReadOnlyList<string> ParseSetting(string? value, List<string> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        var names = new List<string>();
        foreach (var item in (value ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (!ConfigurationNames.IsValid(item))
            {
                errors.Add(ConfigurationNames.Describe(RouteGroupsCapability.GroupsKey, "group", item));
            }
            else if (!names.Contains(item, StringComparer.OrdinalIgnoreCase))
            {
                names.Add(item);
            }
        }

        if (names.Count == 0 && errors.Count == 0 && (value ?? "").Trim().Length > 0)
        {
            // ',' is not "no setting": read as empty it would serve every route of every group, the opposite of what
            // someone who set it meant.
            errors.Add($"{RouteGroupsCapability.GroupsKey}: '{PrintableText.Of(value!)}' names no group. Leave it empty to serve every route, "
                + "or name the groups this gateway serves (web, or web,partner).");
        }

        return names;
    }

    public bool Serves(RegistryRow row)
    {
        var errors = new List<string>();
        if (!RouteGroupsProperties.Groups.TryRead(new RegistryEntityReader(row, errors), out var value))
        {
            // No groups: served only by gateways without groups. Unreadable groups, or the property spelt in another
            // case ('groups': names are case-sensitive, so it is no Groups at all): served, so the parse rejects the
            // row with its reason here rather than the row silently vanishing from every gateway.
            return errors.Count > 0 || HasGroupsInAnotherCase(row);
        }

        foreach (var group in (IReadOnlyList<string>)value!)
        {
            if (_groups.Contains(group))
            {
                return true;
            }
        }

        return false;
    }

    private static bool HasGroupsInAnotherCase(RegistryRow row)
    {
        var name = RouteGroupsProperties.Groups.Name;
        foreach (var key in row.Properties.Keys)
        {
            if (!string.Equals(key, name, StringComparison.Ordinal) && string.Equals(key, name, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }
}
