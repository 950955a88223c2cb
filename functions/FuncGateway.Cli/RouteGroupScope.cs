using System.CommandLine;
using FuncGateway.Model;
using FuncGateway.RouteGroups;

namespace FuncGateway.Cli;

/// <summary>
/// <c>--group NAME</c>: the route group (a route's <c>Groups</c>, not its partition <c>group</c>) a command works on,
/// as the gateway with <c>FuncGateway:Registry:Groups=NAME</c> sees the registry.
/// </summary>
internal static class RouteGroupScope
{
    public static Option<string?> CreateOption(string description) => new("--group")
    {
        Description = description,
        HelpName = "GROUP",
    };

    /// <summary>The group given on the command line, or null; a name the gateway would refuse is a usage error.</summary>
    public static string? Resolve(ParseResult parseResult, Option<string?> option)
    {
        var value = parseResult.GetValue(option)?.Trim();
        if (string.IsNullOrEmpty(value))
        {
            return null;
        }

        var errors = new List<string>();
        var groups = RouteGroupFilter.ParseSetting(value, errors);
        if (errors.Count > 0 || groups.Count != 1)
        {
            throw new CliException(ExitCodes.Usage, errors.Count > 0
                ? string.Join(" ", errors).Replace(RouteGroupsCapability.GroupsKey, "--group", StringComparison.Ordinal)
                : "--group takes one group name.");
        }

        return groups[0];
    }

    /// <summary>The route groups a routes-table row names (none when it names none or they cannot be read).</summary>
    public static IReadOnlyList<string> GroupsOf(RegistryRow row)
    {
        var errors = new List<string>();
        return RouteGroupsProperties.Groups.TryRead(new RegistryEntityReader(row, errors), out var value) && value is IReadOnlyList<string> groups
            ? groups
            : [];
    }

    /// <summary>Whether the route names <paramref name="group"/> among its groups.</summary>
    public static bool IsIn(RegistryRow row, string group) => GroupsOf(row).Contains(group, StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// Whether the gateway serving <paramref name="group"/> serves the row, as its <see cref="RouteGroupFilter"/> decides:
    /// the row names the group, or its <c>Groups</c> cannot be read or is spelt in another case (such a row is served,
    /// and rejected with its reason, by every gateway). What that gateway shows; not what a --group import may prune.
    /// </summary>
    public static bool IsServedBy(RegistryRow row, string group) => new RouteGroupFilter([group]).Serves(row);

    /// <summary>Whether the route names <paramref name="group"/> among its groups.</summary>
    public static bool IsIn(RouteDefinition route, string group) =>
        route.Get(RouteGroupsProperties.Groups).Contains(group, StringComparer.OrdinalIgnoreCase);
}
