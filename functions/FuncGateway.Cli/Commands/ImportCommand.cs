using System.CommandLine;
using FuncGateway.Model;
using FuncGateway.Storage;

namespace FuncGateway.Cli.Commands;

/// <summary><c>fgw [routes|upstreams] import FILE [--dry-run] [--prune] [--force]</c>.</summary>
internal static class ImportCommand
{
    public static Command Create(CliContext context, RegistrySections sections)
    {
        var file = new Argument<string>("FILE") { Description = "The registry file (JSON) to import." };
        var dryRun = new Option<bool>("--dry-run") { Description = "Validate and print the changes; write nothing." };
        var prune = new Option<bool>("--prune")
        {
            Description = "Also delete rows of the imported sections that the file does not contain.",
        };
        var force = new Option<bool>("--force")
        {
            Description = "Write even over rows that changed in storage after they were read (default: stop with exit code 4).",
        };
        var command = new Command("import", $"Import {SectionText(sections)} from a file: validate the result first, print the changes, then write them.")
        {
            file,
            dryRun,
            prune,
            force,
        };
        var group = sections.Includes(RegistryTable.Routes) ? CreateGroupOption() : null;
        if (group is not null)
        {
            command.Options.Add(group);
        }

        command.SetAction((parseResult, cancellationToken) => context.RunAsync(
            () =>
            {
                var path = parseResult.GetValue(file)!;
                var switches = new ImportSwitches(
                    parseResult.GetValue(dryRun), parseResult.GetValue(prune), parseResult.GetValue(force), group is null ? null : RouteGroupScope.Resolve(parseResult, group));
                var registry = RegistryFile.Load(path);
                RequireSections(registry, sections, path);
                return ExecuteAsync(context, parseResult, sections, registry, switches, cancellationToken);
            },
            cancellationToken));
        return command;
    }

    /// <summary>The <c>--group</c> option of an import.</summary>
    internal static Option<string?> CreateGroupOption() => RouteGroupScope.CreateOption(
        "Confine the import to this route group: every route of the file must name it, no route outside it is replaced, and --prune deletes only routes of this group alone (never pools).");

    internal static string SectionText(RegistrySections sections) => sections switch
    {
        RegistrySections.Routes => "routes",
        RegistrySections.Upstreams => "upstream pools",
        _ => "upstream pools and routes",
    };

    /// <summary>Fails with exit code 1 unless the file holds at least one of the sections the command works on.</summary>
    internal static void RequireSections(RegistryFile file, RegistrySections sections, string path)
    {
        if ((file.Sections & sections) == RegistrySections.None)
        {
            var names = sections switch
            {
                RegistrySections.Routes => "a \"routes\" section",
                RegistrySections.Upstreams => "an \"upstreams\" section",
                _ => "an \"upstreams\" or a \"routes\" section",
            };
            throw new CliException(ExitCodes.InvalidInput, $"{path} has no {names}.");
        }
    }

    /// <summary>Plans importing <paramref name="file"/> into the tables, prints the plan, and (unless a dry run) writes it.</summary>
    internal static async Task<int> ExecuteAsync(
        CliContext context, ParseResult parseResult, RegistrySections sections, RegistryFile file, ImportSwitches switches, CancellationToken cancellationToken)
    {
        var connection = context.Connect(parseResult);
        var current = await connection.ReadAsync(cancellationToken, createMissingTables: !switches.DryRun);
        await context.CheckpointAsync(CliCheckpoint.Read);

        var plan = ImportPlan.Create(current, file, sections, switches.Prune, context.AllowedUpstreams(), switches.Group);
        foreach (var warning in plan.Warnings)
        {
            warning.WriteTo(context.Error);
        }

        if (plan.Errors.Count > 0)
        {
            foreach (var error in plan.Errors)
            {
                error.WriteTo(context.Error);
            }

            context.Error.WriteLine($"Import refused: {plan.Errors.Count} row(s) would be rejected. Nothing was written.");
            return ExitCodes.InvalidInput;
        }

        foreach (var change in plan.Changes)
        {
            context.Out.WriteLine(change);
        }

        context.Out.WriteLine($"= {plan.Unchanged} unchanged");
        if (switches.DryRun)
        {
            context.Out.WriteLine("Dry run: nothing was written.");
            return ExitCodes.Success;
        }

        if (!switches.Force)
        {
            // The diff above was computed from the first read. Read again and stop before writing anything if a row
            // it depends on changed meanwhile; the conditional writes below catch what changes after this check.
            var changed = plan.ChangesSince(await connection.ReadAsync(cancellationToken, createMissingTables: true));
            if (changed.Count > 0)
            {
                return Conflict(context, changed, [], plan.Writes.Count);
            }
        }

        if (!plan.HasWrites)
        {
            // Nothing to write, yet an import still creates a missing table: importing a file with no rows is how an
            // operator ends the outage of a lost table (which the gateway does not create) with an empty one, on purpose.
            await connection.Store.EnsureTablesAsync(cancellationToken);
            return ExitCodes.Success;
        }

        await context.CheckpointAsync(CliCheckpoint.BeforeWrite);
        var result = await WriteAsync(connection, plan, switches.Force, cancellationToken);
        if (result.Conflict is { } conflict)
        {
            var written = plan.Writes.Take(result.Applied).ToList();
            var changed = await ChangedAfterConflictAsync(connection, plan, written, conflict, cancellationToken);
            return Conflict(context, changed, written, plan.Writes.Count - result.Applied);
        }

        var added = plan.Changes.Count(c => c.Kind == RegistryChangeKind.Added);
        var changedCount = plan.Changes.Count(c => c.Kind == RegistryChangeKind.Changed);
        var deleted = plan.Changes.Count(c => c.Kind == RegistryChangeKind.Deleted);
        context.Out.WriteLine($"Imported into {connection.TablesDescription}: {added} added, {changedCount} changed, {deleted} deleted.");
        return ExitCodes.Success;
    }

    private static async Task<RegistryWriteResult> WriteAsync(RegistryConnection connection, ImportPlan plan, bool force, CancellationToken cancellationToken)
    {
        await connection.Store.EnsureTablesAsync(cancellationToken);
        try
        {
            // Upstreams before routes, route deletions before upstream deletions: a gateway reading in between sees
            // a registry that at worst lacks part of the change, never a route pointing at a pool not yet written.
            return await connection.Store.ApplyAsync(plan.Writes, force, cancellationToken);
        }
        catch (RegistryStoreException ex)
        {
            throw new RegistryStoreException(
                ex.Message + " The import may have stopped part-way; rows written before the failure stay. Importing the same file again once storage answers is safe.",
                ex);
        }
    }

    /// <summary>What changed underneath, read once more after a write met a conflict (at least the row it met).</summary>
    private static async Task<IReadOnlyList<RowConflict>> ChangedAfterConflictAsync(
        RegistryConnection connection, ImportPlan plan, List<RegistryWrite> written, RegistryWrite conflict, CancellationToken cancellationToken)
    {
        var changed = new List<RowConflict>();
        try
        {
            changed.AddRange(plan.ChangesSince(await connection.ReadAsync(cancellationToken, createMissingTables: true), written));
        }
        catch (RegistryStoreException)
        {
            // The conflict itself is known; the fuller list is a courtesy.
        }

        if (!changed.Exists(c => c.Table == conflict.Row.Table && c.PartitionKey == conflict.Row.PartitionKey && c.RowKey == conflict.Row.RowKey))
        {
            changed.Insert(0, RowConflict.Of(conflict, conflict.Kind == RegistryWriteKind.Insert ? RowConflictKind.Added : RowConflictKind.Changed));
        }

        return changed;
    }

    private static int Conflict(CliContext context, IReadOnlyList<RowConflict> changed, List<RegistryWrite> written, int notWritten)
    {
        context.Error.WriteLine($"error: {changed.Count} row(s) changed in storage after fgw read them:");
        foreach (var row in changed)
        {
            context.Error.WriteLine($"  {row}");
        }

        if (written.Count == 0)
        {
            context.Error.WriteLine("Import stopped: nothing was written.");
        }
        else
        {
            context.Error.WriteLine($"Import stopped part-way: {written.Count} row(s) were written before the conflict (each unchanged since it was read), {notWritten} were not:");
            foreach (var write in written)
            {
                context.Error.WriteLine($"  written: {Describe(write)}");
            }
        }

        context.Error.WriteLine("Run the import again to see the changes against the current tables, or add --force to overwrite them.");
        return ExitCodes.Conflict;
    }

    private static string Describe(RegistryWrite write)
    {
        var what = RowConflict.Name(write.Row);
        return write.Kind switch
        {
            RegistryWriteKind.Insert => "+ " + what,
            RegistryWriteKind.Delete => "- " + what,
            _ => "~ " + what,
        };
    }

    /// <summary>How an import runs: <c>--dry-run</c>, <c>--prune</c>, <c>--force</c>, <c>--group</c>.</summary>
    internal readonly record struct ImportSwitches(bool DryRun, bool Prune, bool Force, string? Group);
}
