using System.Text.RegularExpressions;
using FuncGateway.Model;
using Microsoft.AspNetCore.Http;

namespace FuncGateway.Composition;

/// <summary>
/// The table format of a route's <c>Composition</c>: a JSON object in a string property. Reading it checks only that
/// it is that object, so a row that does not validate is still exported as it is (an export is a backup); everything
/// it says (names, dependencies and their order, paths, methods, timeouts, and what needs the snapshot: upstreams, the
/// route's parameters, the template) is checked when the route compiles, which <c>fgw validate</c> does too.
/// </summary>
internal static partial class CompositionFormat
{
    /// <summary>The most parts one composition may have.</summary>
    public const int MaxParts = 16;

    /// <summary>The longest a part may take.</summary>
    public const int MaxTimeoutMs = 3_600_000;

    /// <summary>The response member that lists the optional parts that failed.</summary>
    public const string PartialMember = "_partial";

    private const string Example =
        "{\"parts\":[{\"name\":\"user\",\"upstream\":\"users\",\"path\":\"/users/{id}\",\"timeoutMs\":500},{\"name\":\"orders\",\"upstream\":\"orders\",\"path\":\"/orders?user={parts.user.body.id}\",\"dependsOn\":[\"user\"],\"required\":false}]}";

    public static CompositionDefinition? Parse(string name, string? json, List<string> errors) =>
        RegistryJson.ParseObject<CompositionDefinition>(name, json, Example, errors);

    /// <summary>The parts in an order that puts every part after those it depends on; null (with errors) when invalid.</summary>
    public static int[]? Check(string name, CompositionDefinition definition, List<string> errors)
    {
        var start = errors.Count;
        var parts = definition.Parts ?? [];
        if (parts.Count is 0 or > MaxParts)
        {
            errors.Add($"{name}: parts must list 1–{MaxParts} parts, not {parts.Count}.");
            return null;
        }

        var index = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < parts.Count; i++)
        {
            var part = parts[i];
            if (part is null)
            {
                errors.Add($"{name}: parts[{i}] may not be null.");
                return null;
            }

            if (!PartName().IsMatch(part.Name ?? ""))
            {
                errors.Add($"{name}: part name '{PrintableText.Of(part.Name ?? "")}' must be a letter or '_' followed by letters, digits or '_' (at most 64).");
            }
            else if (string.Equals(part.Name, PartialMember, StringComparison.OrdinalIgnoreCase))
            {
                errors.Add($"{name}: part name '{part.Name}' is reserved for the list of failed optional parts.");
            }
            else if (!index.TryAdd(part.Name!, i))
            {
                errors.Add($"{name}: part name '{part.Name}' is used twice (names compare case-insensitively).");
            }
        }

        foreach (var part in parts)
        {
            var where = $"{name} part '{PrintableText.Of(part.Name ?? "")}'";
            if (string.IsNullOrWhiteSpace(part.Upstream))
            {
                errors.Add($"{where}: upstream is required (a pool name or an absolute http(s) URL).");
            }

            if (part.Method is { } method && !HttpSyntax.IsToken(method))
            {
                errors.Add($"{where}: method '{PrintableText.Of(method)}' is not a valid HTTP method.");
            }
            else if (part.Method is { } tunnel && (HttpMethods.IsConnect(tunnel) || HttpMethods.IsTrace(tunnel)))
            {
                // CONNECT opens a tunnel and TRACE echoes the request: neither gives a part a response to compose.
                errors.Add($"{where}: method '{tunnel}' cannot be a part's method.");
            }

            if (part.TimeoutMs is < 1 or > MaxTimeoutMs)
            {
                errors.Add($"{where}: timeoutMs {part.TimeoutMs} is outside 1–{MaxTimeoutMs}.");
            }

            foreach (var dependency in part.DependsOn ?? [])
            {
                if (dependency is null || !index.ContainsKey(dependency))
                {
                    errors.Add($"{where}: dependsOn names '{PrintableText.Of(dependency ?? "")}', which is not a part of the composition.");
                }
                else if (string.Equals(dependency, part.Name, StringComparison.OrdinalIgnoreCase))
                {
                    errors.Add($"{where}: a part cannot depend on itself.");
                }
            }

            if (PartPath.Parse(part.Path ?? "", where, errors) is { } path)
            {
                foreach (var used in path.PartsUsed.Where(used => !(part.DependsOn ?? []).Contains(used, StringComparer.OrdinalIgnoreCase)))
                {
                    errors.Add($"{where}: path reads part '{PrintableText.Of(used)}', which must be listed in its dependsOn.");
                }
            }
        }

        if (errors.Count > start)
        {
            return null;
        }

        return Order(name, parts, index, errors);
    }

    /// <summary>Kahn's algorithm, stable in declaration order; a cycle is an error naming its parts.</summary>
    private static int[]? Order(string name, IReadOnlyList<CompositionPartDefinition> parts, Dictionary<string, int> index, List<string> errors)
    {
        var order = new List<int>(parts.Count);
        var placed = new bool[parts.Count];
        while (order.Count < parts.Count)
        {
            var progress = false;
            for (var i = 0; i < parts.Count; i++)
            {
                if (!placed[i] && (parts[i].DependsOn ?? []).All(d => placed[index[d]]))
                {
                    placed[i] = true;
                    order.Add(i);
                    progress = true;
                }
            }

            if (!progress)
            {
                var cycle = Enumerable.Range(0, parts.Count).Where(i => !placed[i]).Select(i => parts[i].Name);
                errors.Add($"{name}: the dependsOn of parts {string.Join(", ", cycle)} form a cycle.");
                return null;
            }
        }

        return [.. order];
    }

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]{0,63}$")]
    private static partial Regex PartName();
}
