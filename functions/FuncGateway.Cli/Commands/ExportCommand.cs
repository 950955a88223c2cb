using FuncGateway.Model;
using System.CommandLine;
using FuncGateway.Configuration;

namespace FuncGateway.Cli.Commands;

/// <summary><c>fgw [routes|upstreams] export [--output FILE]</c>.</summary>
internal static class ExportCommand
{
    public static Command Create(CliContext context, RegistrySections sections)
    {
        var output = new Option<string?>("--output", "-o") { Description = "Write to this file instead of stdout.", HelpName = "FILE" };
        var command = new Command("export", $"Export {ImportCommand.SectionText(sections)} as a registry file, sorted, defaults left out.")
        {
            output,
        };
        var group = sections.Includes(RegistryTable.Routes)
            ? RouteGroupScope.CreateOption("Only the routes the gateway serving this route group serves (their Groups name it, or cannot be read), and of the pools only those these routes name.")
            : null;
        if (group is not null)
        {
            command.Options.Add(group);
        }

        command.SetAction((parseResult, cancellationToken) => context.RunAsync(
            () => ExecuteAsync(context, parseResult, sections, parseResult.GetValue(output), group is null ? null : RouteGroupScope.Resolve(parseResult, group), cancellationToken),
            cancellationToken));
        return command;
    }

    private static async Task<int> ExecuteAsync(
        CliContext context, ParseResult parseResult, RegistrySections sections, string? outputPath, string? group, CancellationToken cancellationToken)
    {
        var connection = context.Connect(parseResult);
        var content = await connection.ReadAsync(cancellationToken);
        if (group is not null)
        {
            // A group's file: its routes, and the pools they name (pools belong to no group; others' stay out).
            var routeRows = content.Routes.Where(r => RouteGroupScope.IsServedBy(r, group)).ToList();
            var named = routeRows.Select(r => r.Properties.GetValueOrDefault(RouteProperties.Upstream) as string).ToHashSet(StringComparer.Ordinal);
            content = new RegistryContent([.. content.Upstreams.Where(u => named.Contains(u.RowKey))], routeRows);
        }

        // A row that does not parse cannot be written in the file format; every other row is exported, including
        // rows the gateway rejects for other reasons (an unknown pool, a bad template): an export is a backup.
        var unreadable = 0;
        List<UpstreamDefinition>? upstreams = null;
        List<RouteDefinition>? routes = null;
        if (sections.Includes(RegistryTable.Upstreams))
        {
            upstreams = Parse(context, content.Upstreams, RegistryFormat.ParseUpstream, ref unreadable);
        }

        if (sections.Includes(RegistryTable.Routes))
        {
            routes = Parse(context, content.Routes, RegistryFormat.ParseRoute, ref unreadable);
        }

        var json = RegistryFile.Serialize(upstreams, routes);
        await WriteAsync(context, json, outputPath, $"{upstreams?.Count ?? 0} upstream(s) and {routes?.Count ?? 0} route(s)", cancellationToken);

        if (unreadable > 0)
        {
            context.Error.WriteLine($"error: {unreadable} row(s) could not be read and were left out of the export.");
            return ExitCodes.InvalidInput;
        }

        return ExitCodes.Success;
    }

    /// <summary>Writes an export to stdout, or to <paramref name="outputPath"/> and then says what went there.</summary>
    internal static async Task WriteAsync(CliContext context, string json, string? outputPath, string what, CancellationToken cancellationToken)
    {
        if (outputPath is null)
        {
            context.Out.Write(json);
            return;
        }

        try
        {
            await File.WriteAllTextAsync(outputPath, json, cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw new CliException(ExitCodes.InvalidInput, $"Cannot write '{outputPath}': {ex.Message}");
        }

        context.Out.WriteLine($"Exported {what} to {outputPath}.");
    }

    private static List<T> Parse<T>(CliContext context, IReadOnlyList<RegistryRow> rows, Func<RegistryRow, List<string>, T?> parse, ref int unreadable)
        where T : class
    {
        var result = new List<T>(rows.Count);
        foreach (var row in rows.OrderBy(r => r.RowKey, StringComparer.Ordinal).ThenBy(r => r.PartitionKey, StringComparer.Ordinal))
        {
            var errors = new List<string>();
            if (parse(row, errors) is { } definition)
            {
                result.Add(definition);
                continue;
            }

            unreadable++;
            context.Error.WriteLine(
                $"error: {row.Table.Noun()} '{RegistryFormat.Printable(row.RowKey)}' (group '{RegistryFormat.Printable(row.PartitionKey)}') cannot be exported:");
            foreach (var error in errors)
            {
                context.Error.WriteLine($"  - {error}");
            }
        }

        return result;
    }
}
