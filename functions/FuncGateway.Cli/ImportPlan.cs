using FuncGateway.Model;
using System.Globalization;
using FuncGateway.Configuration;
using FuncGateway.Forwarding;
using FuncGateway.Storage;

namespace FuncGateway.Cli;

/// <summary>
/// What importing a file would do to the current registry: the merged registry it would leave, whether the gateway
/// would accept it, the changes line by line, and the writes that make it so, each conditional on the row being as it
/// was read. Computed without writing anything.
/// </summary>
internal sealed class ImportPlan
{
    // Changed properties are listed core first (then the rest by name); WebSockets has been listed with the core since #9.
    private static readonly string[] RoutePropertyOrder = [.. RouteProperties.All, ForwardingProperties.WebSockets.Name];

    private static readonly string[] UpstreamPropertyOrder = [.. UpstreamProperties.All];

    private readonly List<RegistryChange> _changes = [];
    private readonly List<RegistryWrite> _upserts = [];
    private readonly List<RegistryWrite> _deletes = [];
    private readonly Dictionary<RegistryTable, HashSet<string>> _fileIds = [];
    private RegistryContent _current = new([], []);
    private bool _prune;

    // With --group: the route group the import is confined to.
    private string? _group;
    private readonly List<RowFinding> _errors = [];
    private readonly List<RowFinding> _warnings = [];

    private ImportPlan()
    {
    }

    /// <summary>The registry as it would be after the import.</summary>
    public RegistryContent Merged { get; private set; } = new([], []);

    /// <summary>Added, changed and deleted rows, upstreams first, each table in id order.</summary>
    public IReadOnlyList<RegistryChange> Changes => _changes;

    /// <summary>Rows of the file identical to the table's.</summary>
    public int Unchanged { get; private set; }

    /// <summary>
    /// The writes, in the order to apply them: inserts and replacements of upstreams, then of routes, so a route never
    /// points at a pool not yet written; then deletions of routes, then of upstreams, so a pool is never removed while
    /// a route still uses it. Within each group by group and id (ordinal), so two imports touching the same rows
    /// write them in the same order and the later one meets the conflict at its first write.
    /// </summary>
    public IReadOnlyList<RegistryWrite> Writes { get; private set; } = [];

    /// <summary>Why the import is refused: file rows the gateway would reject, and table rows it would start to reject.</summary>
    public IReadOnlyList<RowFinding> Errors => _errors;

    /// <summary>Table rows that are rejected already and stay so; they do not block the import.</summary>
    public IReadOnlyList<RowFinding> Warnings => _warnings;

    public bool HasWrites => Writes.Count > 0;

    /// <summary>
    /// Plans importing <paramref name="sections"/> of <paramref name="file"/> (those it contains) over
    /// <paramref name="current"/>. A file row replaces the table rows with the same id or name, in any group (a
    /// group change is a move); with <paramref name="prune"/>, table rows of an imported section that the file does
    /// not hold are deleted.
    /// </summary>
    /// <remarks>
    /// With <paramref name="group"/> (a route group) the import is confined to that group: every route of the file must
    /// name it, a file route may not replace a table route outside it, and <paramref name="prune"/> deletes only table
    /// routes whose one group it is (a route also in other groups is kept, with a warning); pools are never pruned.
    /// </remarks>
    public static ImportPlan Create(RegistryContent current, RegistryFile file, RegistrySections sections, bool prune, UpstreamAllowlist allowedUpstreams, string? group = null)
    {
        var plan = new ImportPlan { _current = current, _prune = prune, _group = group };
        var fileUpstreams = sections.Includes(RegistryTable.Upstreams) && file.Upstreams is { } upstreams
            ? upstreams.Select((u, i) => FileRow.From(RegistryFormat.ToRow(u), i)).ToList()
            : null;
        var fileRoutes = sections.Includes(RegistryTable.Routes) && file.Routes is { } routes
            ? routes.Select((r, i) => FileRow.From(RegistryFormat.ToRow(r), i)).ToList()
            : null;

        var mergedUpstreams = plan.PlanTable(RegistryTable.Upstreams, current.Upstreams, fileUpstreams, prune);
        var mergedRoutes = plan.PlanTable(RegistryTable.Routes, current.Routes, fileRoutes, prune);
        plan.Merged = new RegistryContent(mergedUpstreams, mergedRoutes);
        plan.Writes =
        [
            .. InOrder(plan._upserts, RegistryTable.Upstreams),
            .. InOrder(plan._upserts, RegistryTable.Routes),
            .. InOrder(plan._deletes, RegistryTable.Routes),
            .. InOrder(plan._deletes, RegistryTable.Upstreams),
        ];

        var fileLocations = new Dictionary<(RegistryTable, string, string), List<string>>();
        foreach (var row in (fileUpstreams ?? []).Concat(fileRoutes ?? []))
        {
            var key = (row.Row.Table, row.Row.PartitionKey, row.Row.RowKey);
            if (!fileLocations.TryGetValue(key, out var locations))
            {
                fileLocations[key] = locations = [];
            }

            locations.Add(row.Location);
        }

        var rejectedBefore = RegistryValidation.Validate(current, allowedUpstreams).Rejected
            .Select(r => (r.Table, r.PartitionKey, r.RowKey))
            .ToHashSet();
        var verdict = RegistryValidation.Validate(plan.Merged, allowedUpstreams);
        foreach (var warning in verdict.Warnings)
        {
            if (fileLocations.TryGetValue((warning.Table, warning.PartitionKey, warning.RowKey), out var locations))
            {
                plan._warnings.Add(new RowFinding(warning, RowFindingKind.FileRowWarning, string.Join(", ", locations)));
            }
        }

        foreach (var rejected in verdict.Rejected)
        {
            var key = (rejected.Table, rejected.PartitionKey, rejected.RowKey);
            if (fileLocations.TryGetValue(key, out var locations))
            {
                plan._errors.Add(new RowFinding(rejected, RowFindingKind.FileRowRejected, string.Join(", ", locations)));
            }
            else if (rejectedBefore.Contains(key))
            {
                plan._warnings.Add(new RowFinding(rejected, RowFindingKind.TableRowStillRejected, null));
            }
            else
            {
                plan._errors.Add(new RowFinding(rejected, RowFindingKind.TableRowWouldBeRejected, null));
            }
        }

        return plan;
    }

    /// <summary>With --group, a file route must be in the group, and may not replace a table route that is not.</summary>
    private void CheckInGroup(RegistryRow row, string location, List<RegistryRow> existing)
    {
        var errors = new List<string>();
        if (!RouteGroupScope.IsIn(row, _group!))
        {
            errors.Add($"It is not in route group '{_group}': with --group every route of the file must name it in its groups.");
        }

        foreach (var other in existing.Where(r => !RouteGroupScope.IsIn(r, _group!)))
        {
            var groups = RouteGroupScope.GroupsOf(other);
            errors.Add($"Route id '{RegistryFormat.Printable(row.RowKey)}' is already used in the table outside route group '{_group}' " +
                $"(partition '{RegistryFormat.Printable(other.PartitionKey)}', groups: {(groups.Count == 0 ? "none" : string.Join(", ", groups))}); " +
                "ids are unique across groups. Rename the route, or import without --group to replace it.");
        }

        if (errors.Count > 0)
        {
            _errors.Add(new RowFinding(new RejectedRow(RegistryTable.Routes, row.PartitionKey, row.RowKey, errors), RowFindingKind.FileRowRejected, location));
        }
    }

    /// <summary>Whether --prune deletes this table row when the file does not hold it.</summary>
    private bool Prunes(RegistryTable table, RegistryRow row) =>
        _prune && (_group is null || (table == RegistryTable.Routes && RouteGroupScope.IsIn(row, _group)));

    private static IEnumerable<RegistryWrite> InOrder(List<RegistryWrite> writes, RegistryTable table) => writes
        .Where(w => w.Row.Table == table)
        .OrderBy(w => w.Row.PartitionKey, StringComparer.Ordinal)
        .ThenBy(w => w.Row.RowKey, StringComparer.Ordinal);

    private List<RegistryRow> PlanTable(RegistryTable table, IReadOnlyList<RegistryRow> current, List<FileRow>? file, bool prune)
    {
        if (file is null)
        {
            // A section that is not imported stays as it is, and still counts when validating the result.
            return [.. current];
        }

        var changes = new List<RegistryChange>();
        var fileIds = file.Select(r => r.Row.RowKey).ToHashSet(StringComparer.Ordinal);
        _fileIds[table] = fileIds;
        var merged = new List<RegistryRow>(file.Count + current.Count);
        foreach (var row in current)
        {
            if (fileIds.Contains(row.RowKey))
            {
                continue;
            }

            if (prune && _group is not null && table == RegistryTable.Routes && RouteGroupScope.IsIn(row, _group)
                && RouteGroupScope.GroupsOf(row).Where(g => !string.Equals(g, _group, StringComparison.OrdinalIgnoreCase)).ToList() is { Count: > 0 } others)
            {
                _warnings.Add(new RowFinding(
                    new RejectedRow(table, row.PartitionKey, row.RowKey,
                        [$"It is also in route group(s) {string.Join(", ", others)}, so pruning group '{_group}' keeps it. Take '{_group}' out of its Groups to stop serving it there."]),
                    RowFindingKind.TableRowKept, null));
                merged.Add(row);
            }
            else if (Prunes(table, row))
            {
                _deletes.Add(new RegistryWrite(RegistryWriteKind.Delete, row, row.ETag));
                changes.Add(new RegistryChange(RegistryChangeKind.Deleted, table, row.RowKey, [], null));
            }
            else
            {
                merged.Add(row);
            }
        }

        var byId = current.ToLookup(r => r.RowKey, StringComparer.Ordinal);
        var seen = new HashSet<(string, string)>();
        foreach (var (row, location) in file)
        {
            merged.Add(row);
            if (!seen.Add((row.PartitionKey, row.RowKey)))
            {
                // The same key twice in the file: the validator rejects the second; nothing more to plan for it.
                continue;
            }

            var existing = byId[row.RowKey].ToList();
            if (_group is not null && table == RegistryTable.Routes)
            {
                CheckInGroup(row, location, existing);
            }

            if (existing.Count == 0)
            {
                _upserts.Add(new RegistryWrite(RegistryWriteKind.Insert, row));
                changes.Add(new RegistryChange(RegistryChangeKind.Added, table, row.RowKey, [], null));
                continue;
            }

            var samePartition = existing.FirstOrDefault(r => string.Equals(r.PartitionKey, row.PartitionKey, StringComparison.Ordinal));
            var otherPartitions = existing.Where(r => !ReferenceEquals(r, samePartition)).ToList();
            var changed = ChangedProperties(RegistryValidation.Canonical(samePartition ?? otherPartitions[0]), row, table);
            if (samePartition is null)
            {
                changed.Insert(0, "Group");
            }

            if (changed.Count == 0 && otherPartitions.Count == 0)
            {
                Unchanged++;
                continue;
            }

            if (samePartition is null)
            {
                _upserts.Add(new RegistryWrite(RegistryWriteKind.Insert, row));
            }
            else if (changed.Count > 0)
            {
                _upserts.Add(new RegistryWrite(RegistryWriteKind.Replace, row, samePartition.ETag));
            }

            // A move: the new key is written first, then the old one deleted, so the row never disappears.
            _deletes.AddRange(otherPartitions.Select(r => new RegistryWrite(RegistryWriteKind.Delete, r, r.ETag)));
            var movedFrom = otherPartitions.Count == 0 ? null : string.Join("', '", otherPartitions.Select(r => r.PartitionKey));
            changes.Add(new RegistryChange(RegistryChangeKind.Changed, table, row.RowKey, changed, movedFrom));
        }

        _changes.AddRange(changes.OrderBy(c => c.Id, StringComparer.Ordinal));
        return merged;
    }

    /// <summary>
    /// The rows this import depends on that are not as they were read: every row (in any group) whose id the file
    /// holds, and with --prune every row of an imported section, that changed, appeared or went away in
    /// <paramref name="now"/>. Rows the import itself wrote (<paramref name="written"/>) are left out.
    /// </summary>
    public IReadOnlyList<RowConflict> ChangesSince(RegistryContent now, IEnumerable<RegistryWrite>? written = null)
    {
        ArgumentNullException.ThrowIfNull(now);
        var own = (written ?? []).Select(w => (w.Row.Table, w.Row.PartitionKey, w.Row.RowKey)).ToHashSet();
        var conflicts = new List<RowConflict>();
        foreach (var (table, fileIds) in _fileIds.OrderBy(t => t.Key == RegistryTable.Routes))
        {
            bool Covered(RegistryRow row) => (Prunes(table, row) || fileIds.Contains(row.RowKey)) && !own.Contains((table, row.PartitionKey, row.RowKey));
            var before = Rows(_current, table).Where(Covered).ToDictionary(r => (r.PartitionKey, r.RowKey));
            var after = Rows(now, table).Where(Covered).ToDictionary(r => (r.PartitionKey, r.RowKey));
            foreach (var (key, row) in before)
            {
                if (!after.TryGetValue(key, out var current))
                {
                    conflicts.Add(new RowConflict(table, key.PartitionKey, key.RowKey, RowConflictKind.Deleted));
                }
                else if (!string.Equals(current.ETag, row.ETag, StringComparison.Ordinal))
                {
                    conflicts.Add(new RowConflict(table, key.PartitionKey, key.RowKey, RowConflictKind.Changed));
                }
            }

            conflicts.AddRange(after.Keys.Where(k => !before.ContainsKey(k)).Select(k => new RowConflict(table, k.PartitionKey, k.RowKey, RowConflictKind.Added)));
        }

        return [.. conflicts.OrderBy(c => c.Table == RegistryTable.Routes).ThenBy(c => c.RowKey, StringComparer.Ordinal).ThenBy(c => c.PartitionKey, StringComparer.Ordinal)];
    }

    private static IReadOnlyList<RegistryRow> Rows(RegistryContent content, RegistryTable table) =>
        table == RegistryTable.Routes ? content.Routes : content.Upstreams;

    private static List<string> ChangedProperties(RegistryRow before, RegistryRow after, RegistryTable table)
    {
        var order = table == RegistryTable.Routes ? RoutePropertyOrder : UpstreamPropertyOrder;
        var names = before.Properties.Keys.Union(after.Properties.Keys, StringComparer.Ordinal)
            .OrderBy(n => Array.IndexOf(order, n) is var i and >= 0 ? i : order.Length)
            .ThenBy(n => n, StringComparer.Ordinal);
        var changed = new List<string>();
        foreach (var name in names)
        {
            before.Properties.TryGetValue(name, out var a);
            after.Properties.TryGetValue(name, out var b);
            if (!Equals(a, b))
            {
                changed.Add(name);
            }
        }

        return changed;
    }

    /// <summary>A file row in canonical form, with where it is in the file.</summary>
    private readonly record struct FileRow(RegistryRow Row, string Location)
    {
        public static FileRow From(RegistryRow row, int index) =>
            new(RegistryValidation.Canonical(row), string.Create(CultureInfo.InvariantCulture, $"{row.Table.SectionName()}[{index}]"));
    }
}

internal enum RegistryChangeKind
{
    Added,
    Changed,
    Deleted,
}

/// <summary>One line of an import's diff.</summary>
internal sealed record RegistryChange(RegistryChangeKind Kind, RegistryTable Table, string Id, IReadOnlyList<string> Properties, string? MovedFrom)
{
    public override string ToString()
    {
        var id = RegistryFormat.Printable(Id);
        return Kind switch
        {
            RegistryChangeKind.Added => $"+ {Table.Noun()} {id}",
            RegistryChangeKind.Deleted => $"- {Table.Noun()} {id}",
            _ => $"~ {Table.Noun()} {id}: {string.Join(", ", Properties)}"
                 + (MovedFrom is null ? "" : $" (moved from group '{RegistryFormat.Printable(MovedFrom)}')"),
        };
    }
}

internal enum RowFindingKind
{
    /// <summary>A row of the file that the gateway would reject.</summary>
    FileRowRejected,

    /// <summary>A row of the file that a Kestrel server serves but a Functions app rejects (a Functions-reserved path).</summary>
    FileRowWarning,

    /// <summary>A valid row already in the table that the import would break.</summary>
    TableRowWouldBeRejected,

    /// <summary>A row already in the table, rejected before and after.</summary>
    TableRowStillRejected,

    /// <summary>A route already in the table that a pruned group import keeps, because other groups have it too.</summary>
    TableRowKept,
}

/// <summary>A rejected row and why, for stderr.</summary>
internal sealed record RowFinding(RejectedRow Row, RowFindingKind Kind, string? FileLocation)
{
    public void WriteTo(TextWriter writer)
    {
        var what = $"{Row.Table.Noun()} '{RegistryFormat.Printable(Row.RowKey)}'";
        var group = $"group '{RegistryFormat.Printable(Row.PartitionKey)}'";
        writer.WriteLine(Kind switch
        {
            RowFindingKind.FileRowRejected => $"error: {what} ({FileLocation}, {group}) is invalid:",
            RowFindingKind.FileRowWarning => $"warning: {what} ({FileLocation}, {group}) is rejected by a gateway running as a Functions app (a FuncGateway.Server serves it):",
            RowFindingKind.TableRowWouldBeRejected => $"error: {what} ({group}, already in the table) would be rejected after this import:",
            RowFindingKind.TableRowKept => $"warning: {what} ({group}, already in the table) is not in the file but is kept:",
            _ => $"warning: {what} ({group}, already in the table) is rejected and stays so:",
        });
        foreach (var reason in Row.Errors)
        {
            writer.WriteLine($"  - {reason}");
        }
    }
}

internal enum RowConflictKind
{
    Changed,
    Added,
    Deleted,
}

/// <summary>A row that changed in storage after <c>fgw</c> read it.</summary>
internal sealed record RowConflict(RegistryTable Table, string PartitionKey, string RowKey, RowConflictKind Kind)
{
    public static RowConflict Of(RegistryWrite write, RowConflictKind kind) => new(write.Row.Table, write.Row.PartitionKey, write.Row.RowKey, kind);

    /// <summary>"route 'echo' (group 'default')".</summary>
    public static string Name(RegistryRow row) => Name(row.Table, row.PartitionKey, row.RowKey);

    public override string ToString()
    {
        var what = Name(Table, PartitionKey, RowKey);
        return Kind switch
        {
            RowConflictKind.Added => $"+ {what} was added",
            RowConflictKind.Deleted => $"- {what} was deleted",
            _ => $"~ {what} was changed",
        };
    }

    private static string Name(RegistryTable table, string partitionKey, string rowKey) =>
        $"{table.Noun()} '{RegistryFormat.Printable(rowKey)}' (group '{RegistryFormat.Printable(partitionKey)}')";
}
