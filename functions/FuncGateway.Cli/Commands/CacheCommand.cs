using System.CommandLine;
using Azure;
using FuncGateway.Caching;
using FuncGateway.Storage;

namespace FuncGateway.Cli.Commands;

/// <summary>
/// <c>fgw cache purge --route ID | --prefix PATH | --tag TAG</c>: records a purge in <c>{TablePrefix}CachePurges</c>;
/// every gateway instance drops the matching entries within one registry refresh interval.
/// </summary>
internal static class CacheCommand
{
    private static readonly TimeSpan NetworkTimeout = TimeSpan.FromSeconds(30);

    public static Command Create(CliContext context)
    {
        var cache = new Command("cache", "Work on the gateways' response caches (table PREFIXCachePurges).");
        cache.Subcommands.Add(CreatePurge(context));
        return cache;
    }

    private static Command CreatePurge(CliContext context)
    {
        var route = new Option<string?>("--route") { Description = "Drop every entry of this route (its id).", HelpName = "ID" };
        var prefix = new Option<string?>("--prefix") { Description = "Drop every entry whose request path is PATH or below it.", HelpName = "PATH" };
        var tag = new Option<string?>("--tag") { Description = "Drop every entry the upstream tagged TAG (Cache-Tag response header).", HelpName = "TAG" };
        var command = new Command("purge", "Purge cached responses on every gateway instance (within one registry refresh interval).") { route, prefix, tag };
        command.SetAction((parseResult, cancellationToken) => context.RunAsync(async () =>
        {
            var given = new (CachePurgeKind Kind, string? Value)[]
            {
                (CachePurgeKind.Route, parseResult.GetValue(route)), (CachePurgeKind.Prefix, parseResult.GetValue(prefix)), (CachePurgeKind.Tag, parseResult.GetValue(tag)),
            }.Where(static g => g.Value is not null).ToArray();
            if (given.Length != 1)
            {
                throw new CliException(ExitCodes.Usage, "Name exactly one of --route, --prefix and --tag.");
            }

            var purge = CachePurge.Create(given[0].Kind, given[0].Value, TimeProvider.System.GetUtcNow(), out var error)
                ?? throw new CliException(ExitCodes.Usage, error!);
            var service = context.OpenTableService(parseResult, NetworkTimeout);
            var table = service.GetTableClient(CachePurgeTable.Name(context.ResolveStorage(parseResult).Options.TablePrefix));
            try
            {
                await CachePurgeTable.AddAsync(table, purge, cancellationToken);
            }
            catch (RequestFailedException ex)
            {
                throw new RegistryStoreException($"Storage refused the write: {ex.Status} {ex.ErrorCode}.", ex);
            }

            context.Out.WriteLine($"Purge {purge.Id} recorded in {table.Name}: {purge.Kind.ToString().ToLowerInvariant()} {purge.Value}. Every gateway instance drops matching entries within one registry refresh interval.");
            return ExitCodes.Success;
        }, cancellationToken));
        return command;
    }
}
