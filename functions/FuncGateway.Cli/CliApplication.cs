using FuncGateway.Model;
using System.CommandLine;
using Azure.Data.Tables;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using FuncGateway.Cli.Commands;
using FuncGateway.Storage;

namespace FuncGateway.Cli;

/// <summary>
/// <c>fgw</c>: manages the gateway's routes and upstream pools in Table Storage. Runs in-process for tests: output,
/// error and environment are parameters, nothing is read from or written to the process's own.
/// </summary>
internal static class CliApplication
{
    /// <param name="args">The command line.</param>
    /// <param name="stdout">Where results go.</param>
    /// <param name="stderr">Where errors and warnings go.</param>
    /// <param name="environment">The environment variables to read; null for the process's own.</param>
    /// <param name="checkpoint">Tests only: called at the points of <see cref="CliCheckpoint"/>, to change storage between a read and a write.</param>
    public static async Task<int> RunAsync(
        string[] args, TextWriter stdout, TextWriter stderr, IReadOnlyDictionary<string, string?>? environment = null, Func<CliCheckpoint, Task>? checkpoint = null)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);

        Func<string, string?> lookup = environment is null
            ? Environment.GetEnvironmentVariable
            : name => environment.TryGetValue(name, out var value) ? value : null;
        var context = new CliContext(stdout, stderr, lookup, new StorageCommandOptions(), checkpoint);
        var root = CreateRootCommand(context);

        var parseResult = root.Parse(args);
        if (parseResult.Action is ParseErrorAction)
        {
            foreach (var error in parseResult.Errors)
            {
                stderr.WriteLine($"error: {error.Message}");
            }

            stderr.WriteLine("Run 'fgw --help' or 'fgw COMMAND --help' for usage.");
            return ExitCodes.Usage;
        }

        return await parseResult.InvokeAsync(new InvocationConfiguration
        {
            Output = stdout,
            Error = stderr,

            // A bug should crash loudly, not pass for exit code 1 ("invalid input").
            EnableDefaultExceptionHandler = false,
        });
    }

    private static Command CreateRootCommand(CliContext context)
    {
        // Not a RootCommand: that one is named after the running executable (FuncGateway.Cli, or testhost in
        // tests), and help should say what the user typed.
        var root = new Command("fgw", "Import, export, list and validate FuncGateway routes and upstream pools in Azure Table Storage.")
        {
            new HelpOption(),
            new VersionOption(),
        };
        context.Storage.AddTo(root);

        root.Subcommands.Add(ImportCommand.Create(context, RegistrySections.All));
        root.Subcommands.Add(ExportCommand.Create(context, RegistrySections.All));
        root.Subcommands.Add(ValidateCommand.Create(context, RegistrySections.All));
        root.Subcommands.Add(ImportProxiesCommand.Create(context));

        var routes = new Command("routes", "Work on the routes table only.");
        routes.Subcommands.Add(ListCommand.CreateRoutes(context));
        routes.Subcommands.Add(ImportCommand.Create(context, RegistrySections.Routes));
        routes.Subcommands.Add(ExportCommand.Create(context, RegistrySections.Routes));
        routes.Subcommands.Add(ValidateCommand.Create(context, RegistrySections.Routes));
        root.Subcommands.Add(routes);

        var upstreams = new Command("upstreams", "Work on the upstream pools table only.");
        upstreams.Subcommands.Add(ListCommand.CreateUpstreams(context));
        upstreams.Subcommands.Add(ImportCommand.Create(context, RegistrySections.Upstreams));
        upstreams.Subcommands.Add(ExportCommand.Create(context, RegistrySections.Upstreams));
        upstreams.Subcommands.Add(ValidateCommand.Create(context, RegistrySections.Upstreams));
        root.Subcommands.Add(upstreams);

        // [#12 validation] The named JSON Schemas routes validate bodies against.
        root.Subcommands.Add(SchemasCommand.Create(context));

        // [#3 identity] API keys and Basic password hashes.
        root.Subcommands.Add(KeysCommand.Create(context));
        root.Subcommands.Add(BasicCommand.Create(context));
        root.Subcommands.Add(CacheCommand.Create(context));

        // [#16 discovery] What a running gateway serves per pool (static and discovered instances).
        root.Subcommands.Add(PoolsCommand.Create(context));
        return root;
    }
}

/// <summary>What every command shares: where to write, the environment, and how failures become exit codes.</summary>
internal sealed class CliContext(TextWriter output, TextWriter error, Func<string, string?> environment, StorageCommandOptions storage, Func<CliCheckpoint, Task>? checkpoint = null)
{
    /// <summary>The environment variable of the gateway's upstream allowlist (FuncGateway:Forwarding:AllowedUpstreams).</summary>
    public const string AllowedUpstreamsVariable = "FuncGateway__Forwarding__AllowedUpstreams";

    public TextWriter Out { get; } = output;

    public TextWriter Error { get; } = error;

    public StorageCommandOptions Storage { get; } = storage;

    /// <summary>Opens the registry store the command line and environment point at.</summary>
    public RegistryConnection Connect(ParseResult parseResult) => RegistryConnection.Open(Storage.Resolve(parseResult, environment));

    /// <summary>The storage settings the command line and environment point at.</summary>
    public StorageSettings ResolveStorage(ParseResult parseResult) => Storage.Resolve(parseResult, environment);

    /// <summary>The table service the command line and environment point at; a malformed setting is a usage error.</summary>
    public TableServiceClient OpenTableService(ParseResult parseResult, TimeSpan networkTimeout)
    {
        var settings = ResolveStorage(parseResult);
        try
        {
            return TableRegistryStore.CreateServiceClient(settings.Options, settings.FallbackConnectionString, networkTimeout);
        }
        catch (Exception ex) when (ex is RegistryStoreException or FormatException or ArgumentException or InvalidOperationException)
        {
            throw new CliException(ExitCodes.Usage, ex is RegistryStoreException ? ex.Message : $"The storage connection string is malformed ({ex.GetType().Name}).");
        }
    }

    /// <summary>An environment variable (the process's own, or the test's).</summary>
    public string? Variable(string name) => environment(name);

    /// <summary>Marks a point between reading storage and writing it (a no-op outside tests).</summary>
    public Task CheckpointAsync(CliCheckpoint point) => checkpoint is null ? Task.CompletedTask : checkpoint(point);

    /// <summary>
    /// The gateway's upstream allowlist from <c>FuncGateway__Forwarding__AllowedUpstreams</c>, so rows are judged as the
    /// gateway configured the same way judges them. Unset: any upstream but link-local and metadata addresses.
    /// </summary>
    public UpstreamAllowlist AllowedUpstreams()
    {
        var errors = new List<string>();
        var allowlist = UpstreamAllowlist.Parse(environment(AllowedUpstreamsVariable), errors);
        return errors.Count == 0 ? allowlist : throw new CliException(ExitCodes.Usage, string.Join(Environment.NewLine, errors));
    }

    /// <summary>Runs a command body and maps its failures to an exit code and a message on stderr.</summary>
    public async Task<int> RunAsync(Func<Task<int>> body, CancellationToken cancellationToken)
    {
        try
        {
            return await body();
        }
        catch (CliException ex)
        {
            WriteError(ex.Message);
            return ex.ExitCode;
        }
        catch (RegistryStoreException ex)
        {
            WriteError(ex.Message);
            return ExitCodes.StorageFailure;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            WriteError("storage did not answer in time.");
            return ExitCodes.StorageFailure;
        }
    }

    private void WriteError(string message)
    {
        foreach (var line in message.Split('\n'))
        {
            Error.WriteLine($"error: {line.TrimEnd('\r')}");
        }
    }
}

/// <summary>Points in a command where tests may change storage, to prove that a write never overwrites what it did not read.</summary>
internal enum CliCheckpoint
{
    /// <summary>The command has read the rows it will decide on.</summary>
    Read,

    /// <summary>The command has decided and checked, and is about to write.</summary>
    BeforeWrite,
}
