using FuncGateway.Model;
using FuncGateway.Configuration;
using FuncGateway.LoadBalancing;
using FuncGateway.RouteGroups;

namespace FuncGateway.Cli;

/// <summary>
/// The gateway's own validator (<see cref="SnapshotBuilder"/>), configured as the gateway configures it (including
/// the upstream allowlist from <c>FuncGateway__Forwarding__AllowedUpstreams</c> when it is set), and the canonical
/// form of a row that comparisons use. The CLI has no validation rules of its own.
/// </summary>
internal static class RegistryValidation
{
    /// <summary>The gateway's default forwarding timeout; it only fills in routes without TimeoutSeconds.</summary>
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(100);

    // Immutable once built; the round-robin counters live in the pools of each snapshot, not in the policy.
    private static readonly LoadBalancingPolicyRegistry Policies = new([new RoundRobinPolicy()]);

    /// <summary>
    /// Validates a complete registry against <paramref name="allowedUpstreams"/> as the gateways it implies would: with
    /// <paramref name="group"/>, the one gateway serving that route group; without, one gateway per group a route
    /// names, plus one without groups (which serves every route) when some route names none. A row rejected by any of
    /// them is rejected, with every reason.
    /// </summary>
    public static RegistryVerdict Validate(RegistryContent content, UpstreamAllowlist allowedUpstreams, string? group = null)
    {
        var views = new List<IReadOnlyList<string>?>();
        if (group is not null)
        {
            views.Add([group]);
        }
        else
        {
            var named = new List<string>();
            var ungrouped = content.Routes.Count == 0;
            foreach (var row in content.Routes)
            {
                var groups = RouteGroupScope.GroupsOf(row);
                ungrouped |= groups.Count == 0;
                named.AddRange(groups.Where(g => !named.Contains(g, StringComparer.OrdinalIgnoreCase)));
            }

            views.AddRange(named.Select(static g => (IReadOnlyList<string>)[g]));
            if (ungrouped)
            {
                views.Add(null);
            }
        }

        var rejected = new Dictionary<(RegistryTable, string, string), List<string>>();
        var warnings = new Dictionary<(RegistryTable, string, string), List<string>>();
        var disabled = new HashSet<(string, string)>();
        foreach (var view in views)
        {
            var snapshot = new SnapshotBuilder(
                    RegistryFormat.Serializer, Policies, DefaultTimeout, RegistryFormat.OfflineCompilers, upstreamAllowlist: allowedUpstreams,
                    poolCompilers: RegistryFormat.OfflinePoolCompilers,
                    routeFilters: view is null ? null : [new RouteGroupFilter(view)])
                .Build(content, version: 0, TimeProvider.System.GetUtcNow());
            Merge(rejected, snapshot.Rejected);
            Merge(warnings, snapshot.Warnings);
            disabled.UnionWith(snapshot.Routes.Where(r => !r.Definition.Enabled).Select(r => (r.Definition.Group, r.Definition.Id)));
        }

        return new RegistryVerdict(Rows(rejected), Rows(warnings), disabled);
    }

    private static void Merge(Dictionary<(RegistryTable, string, string), List<string>> into, IEnumerable<RejectedRow> rows)
    {
        foreach (var row in rows)
        {
            var key = (row.Table, row.PartitionKey, row.RowKey);
            if (!into.TryGetValue(key, out var reasons))
            {
                into[key] = reasons = [];
            }

            reasons.AddRange(row.Errors.Where(e => !reasons.Contains(e)));
        }
    }

    private static List<RejectedRow> Rows(Dictionary<(RegistryTable Table, string PartitionKey, string RowKey), List<string>> rows) =>
        [.. rows.Select(r => new RejectedRow(r.Key.Table, r.Key.PartitionKey, r.Key.RowKey, r.Value))
            .OrderBy(r => r.Table).ThenBy(r => r.RowKey, StringComparer.Ordinal).ThenBy(r => r.PartitionKey, StringComparer.Ordinal)];

    /// <summary>
    /// The row as the gateway understands it, written back in the registry format (types normalized, whitespace
    /// trimmed, defaults left out), so two rows that mean the same compare equal. A row that does not parse is
    /// returned as it is.
    /// </summary>
    public static RegistryRow Canonical(RegistryRow row)
    {
        var errors = new List<string>();
        if (row.Table == RegistryTable.Routes)
        {
            return RegistryFormat.ParseRoute(row, errors) is { } route ? RegistryFormat.ToRow(route) : row;
        }

        return RegistryFormat.ParseUpstream(row, errors) is { } upstream ? RegistryFormat.ToRow(upstream) : row;
    }
}

/// <summary>What the gateways would make of a registry.</summary>
/// <param name="Rejected">Rows some gateway would reject, with every reason.</param>
/// <param name="Warnings">Rows served with a warning: routes under the Functions host's reserved paths, which a Functions app rejects.</param>
/// <param name="DisabledRoutes">Valid routes (partition, id) that are switched off.</param>
internal sealed record RegistryVerdict(IReadOnlyList<RejectedRow> Rejected, IReadOnlyList<RejectedRow> Warnings, IReadOnlySet<(string PartitionKey, string Id)> DisabledRoutes);
