using System.CommandLine;
using FuncGateway.Configuration;
using FuncGateway.Storage;

namespace FuncGateway.Cli.Commands;

/// <summary><c>fgw [routes|upstreams] import FILE [--dry-run] [--prune]</c>.</summary>
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
        var command = new Command("import", $"Import {SectionText(sections)} from a file: validate the result first, print the changes, then write them.")
        {
            file,
            dryRun,
            prune,
        };
        command.SetAction((parseResult, cancellationToken) => context.RunAsync(
            () => ExecuteAsync(context, parseResult, sections, parseResult.GetValue(file)!, parseResult.GetValue(dryRun), parseResult.GetValue(prune), cancellationToken),
            cancellationToken));
        return command;
    }

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

    private static async Task<int> ExecuteAsync(
        CliContext context, ParseResult parseResult, RegistrySections sections, string path, bool dryRun, bool prune, CancellationToken cancellationToken)
    {
        var file = RegistryFile.Load(path);
        RequireSections(file, sections, path);
        var connection = context.Connect(parseResult);
        var current = await connection.ReadAsync(cancellationToken, createMissingTables: !dryRun);

        var plan = ImportPlan.Create(current, file, sections, prune, context.AllowedUpstreams());
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
        if (dryRun)
        {
            context.Out.WriteLine("Dry run: nothing was written.");
            return ExitCodes.Success;
        }

        if (!plan.HasWrites)
        {
            return ExitCodes.Success;
        }

        await WriteAsync(connection, plan, cancellationToken);
        var added = plan.Changes.Count(c => c.Kind == RegistryChangeKind.Added);
        var changed = plan.Changes.Count(c => c.Kind == RegistryChangeKind.Changed);
        var deleted = plan.Changes.Count(c => c.Kind == RegistryChangeKind.Deleted);
        context.Out.WriteLine($"Imported into {connection.TablesDescription}: {added} added, {changed} changed, {deleted} deleted.");
        return ExitCodes.Success;
    }

    private static async Task WriteAsync(RegistryConnection connection, ImportPlan plan, CancellationToken cancellationToken)
    {
        await connection.Store.EnsureTablesAsync(cancellationToken);
        try
        {
            // Upstreams before routes, route deletions before upstream deletions: a gateway reading in between sees
            // a registry that at worst lacks part of the change, never a route pointing at a pool not yet written.
            await UpsertAsync(connection.Store, plan.Upserts.Where(r => r.Table == RegistryTable.Upstreams).ToList(), cancellationToken);
            await UpsertAsync(connection.Store, plan.Upserts.Where(r => r.Table == RegistryTable.Routes).ToList(), cancellationToken);
            if (plan.Deletes.Count > 0)
            {
                await connection.Store.DeleteAsync(plan.Deletes, cancellationToken);
            }
        }
        catch (RegistryStoreException ex)
        {
            throw new RegistryStoreException(
                ex.Message + " The import may have stopped part-way; rows written before the failure stay. Importing the same file again once storage answers is safe.",
                ex);
        }
    }

    private static async Task UpsertAsync(IRegistryStore store, List<RegistryRow> rows, CancellationToken cancellationToken)
    {
        if (rows.Count > 0)
        {
            await store.UpsertAsync(rows, cancellationToken);
        }
    }
}
