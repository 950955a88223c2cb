using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using FuncGateway.Cli.Proxies;
using FuncGateway.Model;

namespace FuncGateway.Cli.Commands;

/// <summary>
/// <c>fgw import-proxies PROXIES.JSON [--settings FILE] [--output FILE | --dry-run] [--group G] [--auth P] [--partial]
/// [--prune] [--force]</c>: Azure Functions Proxies into routes, written to a registry file or imported like <c>fgw import</c>.
/// </summary>
internal static class ImportProxiesCommand
{
    public static Command Create(CliContext context)
    {
        var file = new Argument<string>("PROXIES") { Description = "The Azure Functions Proxies file (proxies.json)." };
        var settings = new Option<string?>("--settings")
        {
            Description = "A local.settings.json-style file (its \"Values\", or a flat object of strings) resolving %AppSetting% references.",
            HelpName = "FILE",
        };
        var output = new Option<string?>("--output", "-o")
        {
            Description = "Write the routes to this registry file (for fgw validate / import) instead of importing them; no storage is used.",
            HelpName = "FILE",
        };
        var dryRun = new Option<bool>("--dry-run") { Description = "Translate, validate and print the changes against the tables; write nothing." };
        var auth = new Option<string>("--auth")
        {
            Description = "The Auth of every route (Proxies had no authentication of their own).",
            HelpName = "POLICIES",
            DefaultValueFactory = static _ => "anonymous",
        };
        var partial = new Option<bool>("--partial")
        {
            Description = "Import the proxies that translate even when others do not (by default any untranslatable proxy stops everything).",
        };
        var prune = new Option<bool>("--prune") { Description = "Also delete routes that the translation does not hold (with --group: of that group only)." };
        var force = new Option<bool>("--force") { Description = "Write even over rows that changed in storage after they were read." };
        var group = ImportCommand.CreateGroupOption();
        var command = new Command("import-proxies", "Translate an Azure Functions Proxies file into routes, then import them like 'fgw routes import' (or write them to --output).")
        {
            file,
            settings,
            output,
            dryRun,
            auth,
            group,
            partial,
            prune,
            force,
        };
        command.Validators.Add(result =>
        {
            if (result.GetValue(output) is not null && (result.GetValue(dryRun) || result.GetValue(prune) || result.GetValue(force)))
            {
                result.AddError("--output writes a file and touches no storage: it takes no --dry-run, --prune or --force.");
            }
        });
        command.SetAction((parseResult, cancellationToken) => context.RunAsync(
            () =>
            {
                var groupName = RouteGroupScope.Resolve(parseResult, group);
                var switches = new ImportCommand.ImportSwitches(parseResult.GetValue(dryRun), parseResult.GetValue(prune), parseResult.GetValue(force), groupName);
                var options = new ProxiesImportOptions(parseResult.GetValue(auth)!, groupName);
                return ExecuteAsync(context, parseResult, parseResult.GetValue(file)!, parseResult.GetValue(settings), parseResult.GetValue(output), parseResult.GetValue(partial), options, switches, cancellationToken);
            },
            cancellationToken));
        return command;
    }

    /// <summary>Where a route's requests go: its upstream and path, or <c>fixed STATUS</c> for a fixed response.</summary>
    private static string Target(RouteDefinition route) =>
        route.Get(FixedResponses.FixedResponseProperties.FixedResponse) is { } mock
            ? "fixed " + mock.Status.ToString(CultureInfo.InvariantCulture)
            : route.Upstream + route.UpstreamPath;

    private static async Task<int> ExecuteAsync(
        CliContext context,
        ParseResult parseResult,
        string path,
        string? settingsPath,
        string? outputPath,
        bool partial,
        ProxiesImportOptions options,
        ImportCommand.ImportSwitches switches,
        CancellationToken cancellationToken)
    {
        var settings = settingsPath is null ? null : ReadSettings(settingsPath);
        var translation = ProxiesTranslator.Translate(ReadText(path), path, settings, settingsPath, options);

        foreach (var proxy in translation.Proxies)
        {
            if (proxy.Route is { } route)
            {
                var methods = route.Methods.Count == 0 ? "*" : string.Join(',', route.Methods);
                var transforms = route.Get(Transforms.TransformsProperties.Transforms)?.Count ?? 0;
                context.Out.WriteLine(
                    $"proxy {RegistryFormat.Printable(proxy.Name)}: {methods} {route.Path} -> {Target(route)}" +
                    $"{(transforms > 0 ? $" ({transforms} transform(s))" : "")}{(route.Enabled ? "" : " (disabled)")}");
            }

            foreach (var note in proxy.Notes)
            {
                context.Error.WriteLine($"note: proxy '{RegistryFormat.Printable(proxy.Name)}': {note}");
            }
        }

        foreach (var proxy in translation.Untranslatable)
        {
            context.Error.WriteLine($"{(partial ? "warning" : "error")}: proxy '{RegistryFormat.Printable(proxy.Name)}' cannot be translated{(partial ? " and is left out" : "")}:");
            foreach (var error in proxy.Errors)
            {
                context.Error.WriteLine($"  - {error}");
            }
        }

        if (translation.Untranslatable.Count > 0 && !partial)
        {
            context.Error.WriteLine($"Import refused: {translation.Untranslatable.Count} of {translation.Proxies.Count} proxies cannot be translated. Nothing was written (--partial imports the others).");
            return ExitCodes.InvalidInput;
        }

        var registry = new RegistryFile(null, translation.Routes);
        if (outputPath is null)
        {
            return await ImportCommand.ExecuteAsync(context, parseResult, RegistrySections.Routes, registry, switches, cancellationToken);
        }

        // A file for later: validated offline as fgw validate would, so what is written imports.
        var verdict = RegistryValidation.Validate(new RegistryContent([], [.. translation.Routes.Select(RegistryFormat.ToRow)]), context.AllowedUpstreams(), options.Group);
        // Positions in the written file, which lists routes by id.
        var locations = translation.Routes.OrderBy(r => r.Id, StringComparer.Ordinal)
            .Select((r, i) => (r.Id, Location: string.Create(CultureInfo.InvariantCulture, $"routes[{i}]")))
            .ToDictionary(x => x.Id, x => x.Location, StringComparer.Ordinal);
        foreach (var warning in verdict.Warnings)
        {
            new RowFinding(warning, RowFindingKind.FileRowWarning, locations.GetValueOrDefault(warning.RowKey)).WriteTo(context.Error);
        }

        foreach (var rejected in verdict.Rejected)
        {
            new RowFinding(rejected, RowFindingKind.FileRowRejected, locations.GetValueOrDefault(rejected.RowKey)).WriteTo(context.Error);
        }

        if (verdict.Rejected.Count > 0)
        {
            context.Error.WriteLine($"{verdict.Rejected.Count} route(s) would be rejected by the gateway. Nothing was written.");
            return ExitCodes.InvalidInput;
        }

        try
        {
            await File.WriteAllTextAsync(outputPath, RegistryFile.Serialize(null, translation.Routes), cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw new CliException(ExitCodes.InvalidInput, $"Cannot write '{outputPath}': {ex.Message}");
        }

        context.Out.WriteLine($"Wrote {translation.Routes.Count} route(s) to {outputPath}.");
        return ExitCodes.Success;
    }

    private static string ReadText(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw new CliException(ExitCodes.InvalidInput, $"Cannot read '{path}': {ex.Message}");
        }
    }

    /// <summary>App settings: a local.settings.json's <c>Values</c>, or a flat object of strings.</summary>
    private static Dictionary<string, string> ReadSettings(string path)
    {
        try
        {
            using var document = JsonDocument.Parse(ReadText(path), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            var values = document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("Values", out var inner) ? inner : document.RootElement;
            if (values.ValueKind != JsonValueKind.Object)
            {
                throw new CliException(ExitCodes.InvalidInput, $"{path}: expected an object of settings ({{\"Values\": {{\"NAME\": \"value\"}}}}).");
            }

            var settings = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (var setting in values.EnumerateObject())
            {
                settings[setting.Name] = setting.Value.ValueKind == JsonValueKind.String ? setting.Value.GetString()! : setting.Value.GetRawText();
            }

            return settings;
        }
        catch (JsonException ex)
        {
            throw new CliException(ExitCodes.InvalidInput, $"{path}: not valid JSON: {RegistryFile.Describe(ex)}");
        }
    }
}
