using System.Globalization;
using FuncGateway.Configuration;

namespace FuncGateway.Cli;

/// <summary>
/// What importing a file would do to the current registry: the merged registry it would leave, whether the gateway
/// would accept it, the changes line by line, and the writes that make it so. Computed without writing anything.
/// </summary>
internal sealed class ImportPlan
{
    private static readonly string[] RoutePropertyOrder =
    [
        RegistryFormat.RouteProperties.Path, RegistryFormat.RouteProperties.Methods, RegistryFormat.RouteProperties.Hosts,
        RegistryFormat.RouteProperties.Headers, RegistryFormat.RouteProperties.Query, RegistryFormat.RouteProperties.Upstream,
        RegistryFormat.RouteProperties.UpstreamPath, RegistryFormat.RouteProperties.StripPrefix, RegistryFormat.RouteProperties.Priority,
        RegistryFormat.RouteProperties.TimeoutSeconds, RegistryFormat.RouteProperties.Enabled, RegistryFormat.RouteProperties.PreserveHost,
        RegistryFormat.RouteProperties.WebSockets,
    ];

    private static readonly string[] UpstreamPropertyOrder =
    [
        RegistryFormat.UpstreamProperties.Instances, RegistryFormat.UpstreamProperties.LoadBalancing,
    ];

    private readonly List<RegistryChange> _changes = [];
    private readonly List<RegistryRow> _upserts = [];
    private readonly List<RegistryRow> _deletes = [];
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

    /// <summary>Rows to insert or replace: upstreams before routes, so a route never points at a pool not yet written.</summary>
    public IReadOnlyList<RegistryRow> Upserts => _upserts;

    /// <summary>Rows to delete: routes before upstreams, so a pool is never removed while a route still uses it.</summary>
    public IReadOnlyList<RegistryRow> Deletes => _deletes;

    /// <summary>Why the import is refused: file rows the gateway would reject, and table rows it would start to reject.</summary>
    public IReadOnlyList<RowFinding> Errors => _errors;

    /// <summary>Table rows that are rejected already and stay so; they do not block the import.</summary>
    public IReadOnlyList<RowFinding> Warnings => _warnings;

    public bool HasWrites => _upserts.Count > 0 || _deletes.Count > 0;

    /// <summary>
    /// Plans importing <paramref name="sections"/> of <paramref name="file"/> (those it contains) over
    /// <paramref name="current"/>. A file row replaces the table rows with the same id or name, in any group (a
    /// group change is a move); with <paramref name="prune"/>, table rows of an imported section that the file does
    /// not hold are deleted.
    /// </summary>
    public static ImportPlan Create(RegistryContent current, RegistryFile file, RegistrySections sections, bool prune)
    {
        var plan = new ImportPlan();
        var fileUpstreams = sections.Includes(RegistryTable.Upstreams) && file.Upstreams is { } upstreams
            ? upstreams.Select((u, i) => FileRow.From(RegistryFormat.ToRow(u), i)).ToList()
            : null;
        var fileRoutes = sections.Includes(RegistryTable.Routes) && file.Routes is { } routes
            ? routes.Select((r, i) => FileRow.From(RegistryFormat.ToRow(r), i)).ToList()
            : null;

        var routeDeletes = new List<RegistryRow>();
        var mergedUpstreams = plan.PlanTable(RegistryTable.Upstreams, current.Upstreams, fileUpstreams, prune, plan._deletes);
        var mergedRoutes = plan.PlanTable(RegistryTable.Routes, current.Routes, fileRoutes, prune, routeDeletes);
        plan._deletes.InsertRange(0, routeDeletes);
        plan.Merged = new RegistryContent(mergedUpstreams, mergedRoutes);

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

        var rejectedBefore = RegistryValidation.Validate(current).Rejected
            .Select(r => (r.Table, r.PartitionKey, r.RowKey))
            .ToHashSet();
        foreach (var rejected in RegistryValidation.Validate(plan.Merged).Rejected)
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

    private List<RegistryRow> PlanTable(RegistryTable table, IReadOnlyList<RegistryRow> current, List<FileRow>? file, bool prune, List<RegistryRow> deletes)
    {
        if (file is null)
        {
            // A section that is not imported stays as it is, and still counts when validating the result.
            return [.. current];
        }

        var changes = new List<RegistryChange>();
        var fileIds = file.Select(r => r.Row.RowKey).ToHashSet(StringComparer.Ordinal);
        var merged = new List<RegistryRow>(file.Count + current.Count);
        foreach (var row in current)
        {
            if (fileIds.Contains(row.RowKey))
            {
                continue;
            }

            if (prune)
            {
                deletes.Add(row);
                changes.Add(new RegistryChange(RegistryChangeKind.Deleted, table, row.RowKey, [], null));
            }
            else
            {
                merged.Add(row);
            }
        }

        var byId = current.ToLookup(r => r.RowKey, StringComparer.Ordinal);
        var seen = new HashSet<(string, string)>();
        foreach (var (row, _) in file)
        {
            merged.Add(row);
            if (!seen.Add((row.PartitionKey, row.RowKey)))
            {
                // The same key twice in the file: the validator rejects the second; nothing more to plan for it.
                continue;
            }

            var existing = byId[row.RowKey].ToList();
            if (existing.Count == 0)
            {
                _upserts.Add(row);
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

            if (samePartition is null || changed.Count > 0)
            {
                _upserts.Add(row);
            }

            // A move: the new key is written first, then the old one deleted, so the row never disappears.
            deletes.AddRange(otherPartitions);
            var movedFrom = otherPartitions.Count == 0 ? null : string.Join("', '", otherPartitions.Select(r => r.PartitionKey));
            changes.Add(new RegistryChange(RegistryChangeKind.Changed, table, row.RowKey, changed, movedFrom));
        }

        _changes.AddRange(changes.OrderBy(c => c.Id, StringComparer.Ordinal));
        return merged;
    }

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

    /// <summary>A valid row already in the table that the import would break.</summary>
    TableRowWouldBeRejected,

    /// <summary>A row already in the table, rejected before and after.</summary>
    TableRowStillRejected,
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
            RowFindingKind.TableRowWouldBeRejected => $"error: {what} ({group}, already in the table) would be rejected after this import:",
            _ => $"warning: {what} ({group}, already in the table) is rejected and stays so:",
        });
        foreach (var reason in Row.Errors)
        {
            writer.WriteLine($"  - {reason}");
        }
    }
}
