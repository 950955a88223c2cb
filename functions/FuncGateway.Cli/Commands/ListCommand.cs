using FuncGateway.Model;
using System.Globalization;
using System.CommandLine;
using FuncGateway.Configuration;

namespace FuncGateway.Cli.Commands;

/// <summary><c>fgw routes list</c> and <c>fgw upstreams list</c>: the table's rows with the gateway's verdict on each.</summary>
internal static class ListCommand
{
    public static Command CreateRoutes(CliContext context) =>
        Create(context, RegistryTable.Routes, "List the routes with their status (ok, disabled, or REJECTED and why).");

    public static Command CreateUpstreams(CliContext context) =>
        Create(context, RegistryTable.Upstreams, "List the upstream pools with their status (ok, or REJECTED and why).");

    private static Command Create(CliContext context, RegistryTable table, string description)
    {
        var command = new Command("list", description);
        var group = table == RegistryTable.Routes
            ? RouteGroupScope.CreateOption("Only the routes the gateway serving this route group serves (their Groups name it, or cannot be read), with the status it gives them.")
            : null;
        if (group is not null)
        {
            command.Options.Add(group);
        }

        command.SetAction((parseResult, cancellationToken) => context.RunAsync(
            () => ExecuteAsync(context, parseResult, table, group is null ? null : RouteGroupScope.Resolve(parseResult, group), cancellationToken),
            cancellationToken));
        return command;
    }

    private static async Task<int> ExecuteAsync(CliContext context, ParseResult parseResult, RegistryTable table, string? group, CancellationToken cancellationToken)
    {
        var connection = context.Connect(parseResult);
        var content = await connection.ReadAsync(cancellationToken);
        var snapshot = RegistryValidation.Validate(content, context.AllowedUpstreams(), group);
        var rejected = snapshot.Rejected
            .Where(r => r.Table == table)
            .GroupBy(r => (r.PartitionKey, r.RowKey))
            .ToDictionary(g => g.Key, g => g.SelectMany(r => r.Errors).FirstOrDefault() ?? "rejected");

        var rows = (table == RegistryTable.Routes ? content.Routes : content.Upstreams)
            .Where(r => group is null || RouteGroupScope.IsServedBy(r, group))
            .OrderBy(r => r.RowKey, StringComparer.Ordinal)
            .ThenBy(r => r.PartitionKey, StringComparer.Ordinal)
            .ToList();
        if (rows.Count == 0)
        {
            context.Out.WriteLine($"No {table.SectionName()}{(group is null ? "" : $" of group '{group}'")} in {(table == RegistryTable.Routes ? connection.Options.RoutesTable : connection.Options.UpstreamsTable)}.");
            return ExitCodes.Success;
        }

        var lines = new List<string[]>(rows.Count + 1);
        if (table == RegistryTable.Routes)
        {
            var disabled = snapshot.DisabledRoutes;
            lines.Add(["ID", "GROUP", "PATH", "METHODS", "UPSTREAM", "STATUS"]);
            foreach (var row in rows)
            {
                var status = Status(rejected, row) ?? (disabled.Contains((row.PartitionKey, row.RowKey)) ? "disabled" : "ok");
                lines.Add([row.RowKey, row.PartitionKey, Text(row, RouteProperties.Path), Text(row, RouteProperties.Methods, "*"),
                    Text(row, RouteProperties.Upstream), status]);
            }
        }
        else
        {
            lines.Add(["NAME", "GROUP", "POLICY", "INSTANCES", "STATUS"]);
            foreach (var row in rows)
            {
                var definition = RegistryFormat.ParseUpstream(row, []);
                var policy = definition?.LoadBalancing ?? Text(row, UpstreamProperties.LoadBalancing);
                var instances = definition is null
                    ? Text(row, UpstreamProperties.Instances)
                    : string.Join(", ", definition.Instances.Select(i => i.Weight == 1 ? i.Url : $"{i.Url} (weight {i.Weight})"));
                lines.Add([row.RowKey, row.PartitionKey, policy, instances, Status(rejected, row) ?? "ok"]);
            }
        }

        WriteTable(context.Out, lines);
        return ExitCodes.Success;
    }

    private static string? Status(Dictionary<(string, string), string> rejected, RegistryRow row) =>
        rejected.TryGetValue((row.PartitionKey, row.RowKey), out var reason) ? "REJECTED: " + reason : null;

    /// <summary>A raw property for display, whatever its type; rejected rows are shown as they are stored.</summary>
    private static string Text(RegistryRow row, string property, string empty = "") =>
        row.Properties.TryGetValue(property, out var value) && value is not null
            ? Convert.ToString(value, CultureInfo.InvariantCulture) ?? ""
            : empty;

    internal static void WriteTable(TextWriter output, List<string[]> lines)
    {
        var widths = new int[lines[0].Length];
        foreach (var line in lines)
        {
            for (var i = 0; i < line.Length; i++)
            {
                // Keys come straight from the table: no control characters, bounded length. The status comes from
                // the validator, which already made its reasons printable; it stays whole.
                line[i] = i == line.Length - 1 ? line[i] : RegistryFormat.Printable(line[i]);
                widths[i] = Math.Max(widths[i], line[i].Length);
            }
        }

        foreach (var line in lines)
        {
            // The last column (status, with its reason) is never padded.
            var cells = line.Select((cell, i) => i == line.Length - 1 ? cell : cell.PadRight(widths[i]));
            output.WriteLine(string.Join("  ", cells).TrimEnd());
        }
    }
}
