using FuncGateway.Model;
using System.CommandLine;

namespace FuncGateway.Cli.Commands;

/// <summary><c>fgw [routes|upstreams] validate FILE [--against-storage [--prune]]</c>.</summary>
internal static class ValidateCommand
{
    public static Command Create(CliContext context, RegistrySections sections)
    {
        var file = new Argument<string>("FILE") { Description = "The registry file (JSON) to check." };
        var againstStorage = new Option<bool>("--against-storage")
        {
            Description = "Check the file merged with the current tables, exactly as import would (reads storage, writes nothing).",
        };
        var prune = new Option<bool>("--prune") { Description = "With --against-storage: check as import --prune would." };
        var group = RouteGroupScope.CreateOption("With --against-storage: check as import --group would. Offline: check as the gateway serving this route group would (routes of other groups are not checked beyond their ids).");
        var command = new Command("validate", $"Check that the gateway would accept the {ImportCommand.SectionText(sections)} in a file. Offline unless --against-storage.")
        {
            file,
            againstStorage,
            prune,
            group,
        };
        command.Validators.Add(result =>
        {
            if (result.GetValue(prune) && !result.GetValue(againstStorage))
            {
                result.AddError("--prune needs --against-storage.");
            }
        });
        command.SetAction((parseResult, cancellationToken) => context.RunAsync(
            () => ExecuteAsync(
                context, parseResult, sections, parseResult.GetValue(file)!, parseResult.GetValue(againstStorage), parseResult.GetValue(prune), RouteGroupScope.Resolve(parseResult, group), cancellationToken),
            cancellationToken));
        return command;
    }

    private static async Task<int> ExecuteAsync(
        CliContext context, ParseResult parseResult, RegistrySections sections, string path, bool againstStorage, bool prune, string? group, CancellationToken cancellationToken)
    {
        var file = RegistryFile.Load(path);
        ImportCommand.RequireSections(file, sections, path);

        IReadOnlyList<RowFinding> errors;
        if (againstStorage)
        {
            var current = await context.Connect(parseResult).ReadAsync(cancellationToken);
            var plan = ImportPlan.Create(current, file, sections, prune, context.AllowedUpstreams(), group);
            foreach (var warning in plan.Warnings)
            {
                warning.WriteTo(context.Error);
            }

            errors = plan.Errors;
        }
        else
        {
            (errors, var warnings) = ValidateOffline(file, sections, context.AllowedUpstreams(), group);
            foreach (var warning in warnings)
            {
                warning.WriteTo(context.Error);
            }
        }

        foreach (var error in errors)
        {
            error.WriteTo(context.Error);
        }

        var upstreams = sections.Includes(RegistryTable.Upstreams) ? file.Upstreams?.Count ?? 0 : 0;
        var routes = sections.Includes(RegistryTable.Routes) ? file.Routes?.Count ?? 0 : 0;
        if (errors.Count > 0)
        {
            context.Error.WriteLine($"{path}: {errors.Count} row(s) would be rejected.");
            return ExitCodes.InvalidInput;
        }

        context.Out.WriteLine($"{path}: valid ({upstreams} upstream(s), {routes} route(s)){(againstStorage ? ", merged with the current tables" : "")}.");
        return ExitCodes.Success;
    }

    /// <summary>
    /// The file alone as the whole registry. Routes are checked against the file's own pools (a route may still name
    /// an absolute URL instead); only rows of the selected sections are reported.
    /// </summary>
    private static (List<RowFinding> Errors, List<RowFinding> Warnings) ValidateOffline(
        RegistryFile file, RegistrySections sections, UpstreamAllowlist allowedUpstreams, string? group)
    {
        var upstreams = (file.Upstreams ?? []).Select(RegistryFormat.ToRow).ToList();
        var routes = sections.Includes(RegistryTable.Routes) ? (file.Routes ?? []).Select(RegistryFormat.ToRow).ToList() : [];
        var locations = Locations(upstreams).Concat(Locations(routes))
            .GroupBy(l => l.Key, l => l.Location)
            .ToDictionary(g => g.Key, g => string.Join(", ", g));
        var verdict = RegistryValidation.Validate(new RegistryContent(upstreams, routes), allowedUpstreams, group);
        return (Findings(verdict.Rejected, RowFindingKind.FileRowRejected), Findings(verdict.Warnings, RowFindingKind.FileRowWarning));

        List<RowFinding> Findings(IEnumerable<RejectedRow> rows, RowFindingKind kind) => rows
            .Where(r => sections.Includes(r.Table))
            .Select(r => new RowFinding(r, kind, locations[(r.Table, r.PartitionKey, r.RowKey)]))
            .ToList();
    }

    private static IEnumerable<((RegistryTable, string, string) Key, string Location)> Locations(List<RegistryRow> rows) =>
        rows.Select((row, i) => ((row.Table, row.PartitionKey, row.RowKey), $"{row.Table.SectionName()}[{i}]"));
}
