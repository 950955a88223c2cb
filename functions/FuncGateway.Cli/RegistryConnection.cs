using FuncGateway.Model;
using Azure;
using Azure.Data.Tables;
using FuncGateway.Storage;

namespace FuncGateway.Cli;

/// <summary>The registry store a command works against, opened from <see cref="StorageSettings"/>.</summary>
internal sealed class RegistryConnection
{
    /// <summary>One storage call; a CLI run waits longer than the gateway's polling reads.</summary>
    private static readonly TimeSpan NetworkTimeout = TimeSpan.FromSeconds(30);

    private readonly TableServiceClient _service;

    private RegistryConnection(TableServiceClient service, StorageOptions options)
    {
        _service = service;
        Store = new TableRegistryStore(service, options);
        Options = options;
    }

    public IRegistryStore Store { get; }

    public StorageOptions Options { get; }

    /// <summary>Names the tables in messages (never the account or its keys).</summary>
    public string TablesDescription => $"{Options.UpstreamsTable} and {Options.RoutesTable}";

    public static RegistryConnection Open(StorageSettings settings)
    {
        try
        {
            var client = TableRegistryStore.CreateServiceClient(settings.Options, settings.FallbackConnectionString, NetworkTimeout);
            return new RegistryConnection(client, settings.Options);
        }
        catch (RegistryStoreException ex)
        {
            throw new CliException(ExitCodes.Usage, ex.Message);
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or InvalidOperationException)
        {
            // The SDK's message may quote the connection string; say only what kind of problem it is.
            throw new CliException(ExitCodes.Usage, $"The storage connection string is malformed ({ex.GetType().Name}).");
        }
    }

    /// <summary>
    /// Reads both tables. When neither exists yet, the registry is empty (nothing was imported). When only one
    /// exists, the store cannot read the other: with <paramref name="createMissingTables"/> (a real import, which
    /// creates the tables anyway) it is created, otherwise the command fails with exit code 3 and says so.
    /// </summary>
    public async Task<RegistryContent> ReadAsync(CancellationToken cancellationToken, bool createMissingTables = false)
    {
        try
        {
            return await Store.ReadAllAsync(cancellationToken);
        }
        catch (RegistryStoreException ex) when (ex.InnerException is RequestFailedException { Status: 404, ErrorCode: "TableNotFound" })
        {
            var existing = await ExistingTablesAsync(cancellationToken);
            if (existing.Count == 0)
            {
                return new RegistryContent([], []);
            }

            if (!createMissingTables)
            {
                var missing = existing.Contains(Options.RoutesTable) ? Options.UpstreamsTable : Options.RoutesTable;
                throw new RegistryStoreException(
                    $"Table '{missing}' does not exist although '{existing[0]}' does. An import (without --dry-run) creates it.", ex);
            }

            await Store.EnsureTablesAsync(cancellationToken);
            return await Store.ReadAllAsync(cancellationToken);
        }
    }

    // The store has no "does the registry exist" question; this is the one place the CLI asks the SDK directly.
    private async Task<List<string>> ExistingTablesAsync(CancellationToken cancellationToken)
    {
        var routes = Options.RoutesTable;
        var upstreams = Options.UpstreamsTable;
        var existing = new List<string>();
        try
        {
            await foreach (var table in _service.QueryAsync(t => t.Name == routes || t.Name == upstreams, cancellationToken: cancellationToken))
            {
                existing.Add(table.Name);
            }
        }
        catch (RequestFailedException ex)
        {
            throw new RegistryStoreException($"Could not list the tables: storage answered {ex.Status} {ex.ErrorCode}.", ex);
        }

        return existing;
    }
}
