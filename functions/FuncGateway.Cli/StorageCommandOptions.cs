using FuncGateway.Model;
using System.CommandLine;
using System.ComponentModel.DataAnnotations;

namespace FuncGateway.Cli;

/// <summary>
/// The storage options every command takes, with defaults from the same environment variables the gateway reads.
/// Precedence follows the gateway: a connection string, else a table service URI (managed identity / Azure CLI
/// login through DefaultAzureCredential), else <c>AzureWebJobsStorage</c>. Anything given on the command line
/// wins over the whole environment.
/// </summary>
internal sealed class StorageCommandOptions
{
    public const string ConnectionStringVariable = "FuncGateway__Storage__ConnectionString";
    public const string TableServiceUriVariable = "FuncGateway__Storage__TableServiceUri";
    public const string TablePrefixVariable = "FuncGateway__Storage__TablePrefix";
    public const string ManagedIdentityClientIdVariable = "FuncGateway__Storage__ManagedIdentityClientId";
    public const string FallbackConnectionStringVariable = "AzureWebJobsStorage";

    public Option<string?> ConnectionString { get; } = new("--connection-string")
    {
        Description = $"Storage connection string. Default: ${ConnectionStringVariable}, then ${FallbackConnectionStringVariable}.",
        HelpName = "CONNECTION-STRING",
        Recursive = true,
    };

    public Option<string?> TableServiceUri { get; } = new("--table-service-uri")
    {
        Description = $"Table endpoint (https://ACCOUNT.table.core.windows.net), signed in with DefaultAzureCredential. Default: ${TableServiceUriVariable}.",
        HelpName = "URI",
        Recursive = true,
    };

    public Option<string?> TablePrefix { get; } = new("--table-prefix")
    {
        Description = $"Prefix of the registry tables (PREFIXRoutes, PREFIXUpstreams). Default: ${TablePrefixVariable}, then Gateway.",
        HelpName = "PREFIX",
        Recursive = true,
    };

    public void AddTo(Command root)
    {
        root.Options.Add(ConnectionString);
        root.Options.Add(TableServiceUri);
        root.Options.Add(TablePrefix);
    }

    /// <summary>The storage settings for this invocation; a missing or invalid setting is a usage error.</summary>
    public StorageSettings Resolve(ParseResult parseResult, Func<string, string?> environment)
    {
        var connectionString = NullIfEmpty(parseResult.GetValue(ConnectionString));
        var serviceUri = NullIfEmpty(parseResult.GetValue(TableServiceUri));
        string? fallback = null;
        if (connectionString is null && serviceUri is null)
        {
            connectionString = NullIfEmpty(environment(ConnectionStringVariable));
            serviceUri = NullIfEmpty(environment(TableServiceUriVariable));
            fallback = NullIfEmpty(environment(FallbackConnectionStringVariable));
        }

        var options = new StorageOptions
        {
            ConnectionString = connectionString,
            TableServiceUri = serviceUri,
            ManagedIdentityClientId = NullIfEmpty(environment(ManagedIdentityClientIdVariable)),
            TablePrefix = NullIfEmpty(parseResult.GetValue(TablePrefix)) ?? NullIfEmpty(environment(TablePrefixVariable)) ?? new StorageOptions().TablePrefix,
        };

        // The gateway validates these options with their DataAnnotations at start-up; so does the CLI.
        var results = new List<ValidationResult>();
        if (!Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true))
        {
            throw new CliException(ExitCodes.Usage, string.Join(" ", results.Select(r => r.ErrorMessage)));
        }

        if (options.ConnectionString is null && options.TableServiceUri is null && fallback is null)
        {
            throw new CliException(ExitCodes.Usage,
                $"No storage configured: pass --connection-string or --table-service-uri, or set {ConnectionStringVariable}, {TableServiceUriVariable} or {FallbackConnectionStringVariable}.");
        }

        return new StorageSettings(options, fallback);
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}

/// <summary>Resolved storage settings. Holds secrets: never print it.</summary>
internal sealed record StorageSettings(StorageOptions Options, string? FallbackConnectionString)
{
    public override string ToString() => $"StorageSettings {{ Tables = {Options.RoutesTable}, {Options.UpstreamsTable} }}";
}
