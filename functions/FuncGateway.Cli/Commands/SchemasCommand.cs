using System.CommandLine;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using FuncGateway.Model;
using FuncGateway.Storage;
using FuncGateway.Validation;

namespace FuncGateway.Cli.Commands;

/// <summary>
/// <c>fgw schemas import FILE [--dry-run] [--prune] [--force]</c> and <c>fgw schemas export [--output FILE]</c>: the
/// named JSON Schemas that routes' <c>Validation</c> refers to. A schemas file is <c>{"schemas":{"name":{…schema…}}}</c>.
/// An import compiles every schema as the gateway does and writes nothing if one does not compile; each write is
/// conditional on the row being as it was read (exit code 4 when it changed), like <c>fgw import</c>.
/// </summary>
internal static class SchemasCommand
{
    // A file for people, not HTML: keep '+', '<', '&' and non-ASCII characters readable (in the table too).
    private static readonly JsonSerializerOptions FileOptions = new()
    {
        WriteIndented = true,
        NewLine = "\n",
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private static readonly JsonSerializerOptions CompactOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static Command Create(CliContext context)
    {
        var schemas = new Command("schemas", "Work on the Schemas table: the named JSON Schemas (draft 2020-12) routes validate bodies against.");
        schemas.Subcommands.Add(CreateImport(context));
        schemas.Subcommands.Add(CreateExport(context));
        return schemas;
    }

    private static Command CreateImport(CliContext context)
    {
        var file = new Argument<string>("FILE") { Description = "The schemas file (JSON): {\"schemas\":{\"name\":{...}}}." };
        var dryRun = new Option<bool>("--dry-run") { Description = "Compile and print the changes; write nothing." };
        var prune = new Option<bool>("--prune") { Description = "Also delete schemas the file does not contain (refused while a route names one)." };
        var force = new Option<bool>("--force") { Description = "Write even over rows that changed in storage after they were read (default: stop with exit code 4)." };
        var command = new Command("import", "Import schemas from a file: compile every one first, print the changes, then write them.")
        {
            file, dryRun, prune, force,
        };
        command.SetAction((parseResult, cancellationToken) => context.RunAsync(
            () => ImportAsync(context, parseResult, parseResult.GetValue(file)!, parseResult.GetValue(dryRun), parseResult.GetValue(prune), parseResult.GetValue(force), cancellationToken),
            cancellationToken));
        return command;
    }

    private static Command CreateExport(CliContext context)
    {
        var output = new Option<string?>("--output", "-o") { Description = "Write to this file instead of stdout.", HelpName = "FILE" };
        var command = new Command("export", "Export the Schemas table as a schemas file, sorted by name.") { output };
        command.SetAction((parseResult, cancellationToken) => context.RunAsync(
            () => ExportAsync(context, parseResult, parseResult.GetValue(output), cancellationToken),
            cancellationToken));
        return command;
    }

    private static async Task<int> ImportAsync(CliContext context, ParseResult parseResult, string path, bool dryRun, bool prune, bool force, CancellationToken cancellationToken)
    {
        var fileSchemas = Load(path);
        var errors = 0;
        foreach (var (name, text) in fileSchemas)
        {
            var problems = new List<string>();
            SchemaTableCompiler.Parse(Row(RegistryConventions.DefaultGroup, name, text), problems);
            if (problems.Count > 0)
            {
                errors++;
                context.Error.WriteLine($"error: schema '{RegistryFormat.Printable(name)}' ({path}) would be rejected:");
                foreach (var problem in problems)
                {
                    context.Error.WriteLine($"  - {problem}");
                }
            }
        }

        if (errors > 0)
        {
            context.Error.WriteLine($"Import refused: {errors} schema(s) would be rejected. Nothing was written.");
            return ExitCodes.InvalidInput;
        }

        var connection = context.Connect(parseResult);
        var current = await connection.ReadAsync(cancellationToken);
        await context.CheckpointAsync(CliCheckpoint.Read);
        var existing = current.Schemas.GroupBy(r => r.RowKey, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.OrderBy(r => r.PartitionKey, StringComparer.Ordinal).First(), StringComparer.Ordinal);

        var writes = new List<RegistryWrite>();
        var unchanged = 0;
        foreach (var (name, text) in fileSchemas.OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            if (!existing.TryGetValue(name, out var row))
            {
                context.Out.WriteLine($"+ schema {name}");
                writes.Add(new RegistryWrite(RegistryWriteKind.Insert, Row(RegistryConventions.DefaultGroup, name, text)));
            }
            else if (Canonical(row.Properties.GetValueOrDefault(SchemaTableCompiler.SchemaProperty) as string) != text || row.Properties.Count != 1)
            {
                context.Out.WriteLine($"~ schema {name}");
                writes.Add(new RegistryWrite(RegistryWriteKind.Replace, Row(row.PartitionKey, name, text), row.ETag));
            }
            else
            {
                unchanged++;
            }
        }

        if (prune)
        {
            var named = NamedByRoutes(current.Routes);
            foreach (var row in current.Schemas.Where(r => !fileSchemas.ContainsKey(r.RowKey)).OrderBy(r => r.RowKey, StringComparer.Ordinal))
            {
                if (named.TryGetValue(row.RowKey, out var route))
                {
                    context.Error.WriteLine($"error: schema '{RegistryFormat.Printable(row.RowKey)}' is not in {path} but route '{RegistryFormat.Printable(route)}' names it; --prune would reject that route.");
                    errors++;
                    continue;
                }

                context.Out.WriteLine($"- schema {row.RowKey}");
                writes.Add(new RegistryWrite(RegistryWriteKind.Delete, row, row.ETag));
            }

            if (errors > 0)
            {
                context.Error.WriteLine("Import refused: nothing was written.");
                return ExitCodes.InvalidInput;
            }
        }

        context.Out.WriteLine($"= {unchanged} unchanged");
        if (dryRun)
        {
            context.Out.WriteLine("Dry run: nothing was written.");
            return ExitCodes.Success;
        }

        if (writes.Count == 0)
        {
            // As fgw import: an import creates a missing (lost) table even with nothing to write.
            await connection.Store.EnsureTablesAsync(cancellationToken);
            return ExitCodes.Success;
        }

        await context.CheckpointAsync(CliCheckpoint.BeforeWrite);
        await connection.Store.EnsureTablesAsync(cancellationToken);
        var result = await connection.Store.ApplyAsync(writes, force, cancellationToken);
        if (result.Conflict is { } conflict)
        {
            context.Error.WriteLine($"error: schema '{RegistryFormat.Printable(conflict.Row.RowKey)}' changed in storage after fgw read it.");
            context.Error.WriteLine($"Import stopped: {result.Applied} write(s) were applied before it, {writes.Count - result.Applied} were not. Run the import again, or add --force to overwrite.");
            return ExitCodes.Conflict;
        }

        context.Out.WriteLine($"Imported into {connection.Options.SchemasTable}: {writes.Count(w => w.Kind == RegistryWriteKind.Insert)} added, {writes.Count(w => w.Kind == RegistryWriteKind.Replace)} changed, {writes.Count(w => w.Kind == RegistryWriteKind.Delete)} deleted.");
        return ExitCodes.Success;
    }

    private static async Task<int> ExportAsync(CliContext context, ParseResult parseResult, string? outputPath, CancellationToken cancellationToken)
    {
        var connection = context.Connect(parseResult);
        var current = await connection.ReadAsync(cancellationToken);
        var schemas = new JsonObject();
        var unreadable = 0;
        foreach (var row in current.Schemas.OrderBy(r => r.RowKey, StringComparer.Ordinal).ThenBy(r => r.PartitionKey, StringComparer.Ordinal))
        {
            JsonNode? schema = null;
            try
            {
                schema = row.Properties.GetValueOrDefault(SchemaTableCompiler.SchemaProperty) is string text ? JsonNode.Parse(text) : null;
            }
            catch (JsonException)
            {
            }

            if (schema is null || schemas.ContainsKey(row.RowKey))
            {
                unreadable++;
                context.Error.WriteLine($"error: schema '{RegistryFormat.Printable(row.RowKey)}' (group '{RegistryFormat.Printable(row.PartitionKey)}') cannot be exported: its Schema property is missing, not JSON, or the name is taken.");
                continue;
            }

            schemas[row.RowKey] = schema;
        }

        var json = new JsonObject { ["schemas"] = schemas }.ToJsonString(FileOptions) + "\n";
        await ExportCommand.WriteAsync(context, json, outputPath, $"{schemas.Count} schema(s)", cancellationToken);
        return unreadable > 0 ? ExitCodes.InvalidInput : ExitCodes.Success;
    }

    /// <summary>The file's schemas by name, each as compact JSON text (what the table stores).</summary>
    private static Dictionary<string, string> Load(string path)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(path));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw new CliException(ExitCodes.InvalidInput, $"Cannot read '{path}': {ex.Message}");
        }
        catch (JsonException ex)
        {
            throw new CliException(ExitCodes.InvalidInput, $"{path} is not valid JSON: {RegistryJson.Message(ex)}");
        }

        if (root is not JsonObject file || file.Count != 1 || file["schemas"] is not JsonObject schemas)
        {
            throw new CliException(ExitCodes.InvalidInput, $"{path} must be a JSON object with one member, \"schemas\": {{\"name\": {{...schema...}}}}.");
        }

        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, schema) in schemas)
        {
            result[name] = schema?.ToJsonString(CompactOptions) ?? "null";
        }

        return result;
    }

    private static string? Canonical(string? text)
    {
        try
        {
            return text is null ? null : JsonNode.Parse(text)?.ToJsonString(CompactOptions);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static RegistryRow Row(string partition, string name, string text) =>
        new(RegistryTable.Schemas, partition, name, new Dictionary<string, object?> { [SchemaTableCompiler.SchemaProperty] = text });

    /// <summary>Schema name → the first route (by id) whose Validation names it.</summary>
    private static Dictionary<string, string> NamedByRoutes(IReadOnlyList<RegistryRow> routes)
    {
        var named = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var row in routes.OrderBy(r => r.RowKey, StringComparer.Ordinal))
        {
            if (RegistryFormat.ParseRoute(row, []) is { } route && route.Get(ValidationProperties.Validation)?.Schema is { } schema)
            {
                named.TryAdd(schema, route.Id);
            }
        }

        return named;
    }
}
