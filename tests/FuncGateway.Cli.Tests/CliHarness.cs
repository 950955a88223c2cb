using Azure.Data.Tables;
using FuncGateway.Testing;

namespace FuncGateway.Cli.Tests;

/// <summary>xunit finds collection definitions only in the test assembly: this declares the shared one here.</summary>
[CollectionDefinition(AzuriteCollection.Name)]
public sealed class AzuriteCollectionDefinition : AzuriteCollection;

/// <summary>What one in-process run of <c>fgw</c> produced.</summary>
internal sealed record CliResult(int ExitCode, string Stdout, string Stderr)
{
    public string[] StdoutLines => Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Stdout}--- stderr\n{Stderr}";
}

/// <summary>
/// Runs <c>fgw</c> in-process against a storage account with tables no other test uses (a unique
/// <c>--table-prefix</c>), with an empty environment, and gives direct access to the tables it writes.
/// </summary>
internal sealed class CliHarness : IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("fgw-cli-tests-");
    private readonly TableServiceClient _service;

    public CliHarness(string connectionString)
    {
        ConnectionString = connectionString;
        _service = new TableServiceClient(connectionString);
    }

    public CliHarness(AzuriteFixture fixture)
        : this(fixture.ConnectionString)
    {
    }

    public string ConnectionString { get; }

    public string Prefix { get; } = AzuriteFixture.UniqueTableName("t");

    public TableClient RoutesTable => _service.GetTableClient(Prefix + "Routes");

    public TableClient UpstreamsTable => _service.GetTableClient(Prefix + "Upstreams");

    /// <summary>Runs fgw with this harness's storage and table prefix appended to <paramref name="args"/>.</summary>
    public Task<CliResult> RunAsync(params string[] args) =>
        RunRawAsync([.. args, "--connection-string", ConnectionString, "--table-prefix", Prefix]);

    /// <summary>
    /// As <see cref="RunAsync(string[])"/>, calling <paramref name="checkpoint"/> where the command has read storage and
    /// where it is about to write, so a test can change rows in between as another user would.
    /// </summary>
    public Task<CliResult> RunAsync(Func<CliCheckpoint, Task> checkpoint, params string[] args) =>
        RunRawAsync([.. args, "--connection-string", ConnectionString, "--table-prefix", Prefix], checkpoint: checkpoint);

    /// <summary>Runs fgw with exactly <paramref name="args"/> and the given environment (empty by default).</summary>
    public static async Task<CliResult> RunRawAsync(string[] args, IReadOnlyDictionary<string, string?>? environment = null, Func<CliCheckpoint, Task>? checkpoint = null)
    {
        using var stdout = new StringWriter { NewLine = "\n" };
        using var stderr = new StringWriter { NewLine = "\n" };
        var exitCode = await CliApplication.RunAsync(args, stdout, stderr, environment ?? new Dictionary<string, string?>(), checkpoint);
        return new CliResult(exitCode, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Writes a registry file into this test's temporary folder and returns its path.</summary>
    public string WriteFile(string json, string name = "registry.json")
    {
        var path = Path.Combine(_directory.FullName, name);
        File.WriteAllText(path, json);
        return path;
    }

    public string PathOf(string name) => Path.Combine(_directory.FullName, name);

    public static async Task<List<TableEntity>> ReadAsync(TableClient table)
    {
        var result = new List<TableEntity>();
        await foreach (var entity in table.QueryAsync<TableEntity>())
        {
            result.Add(entity);
        }

        return [.. result.OrderBy(e => e.RowKey, StringComparer.Ordinal)];
    }

    /// <summary>Every registry row's ETag, by "upstream/group/name" and "route/group/id": what changed, and what did not.</summary>
    public async Task<Dictionary<string, string>> ETagsAsync()
    {
        var upstreams = (await ReadAsync(UpstreamsTable)).Select(e => ("upstream/" + e.PartitionKey + "/" + e.RowKey, e.ETag.ToString()));
        var routes = (await ReadAsync(RoutesTable)).Select(e => ("route/" + e.PartitionKey + "/" + e.RowKey, e.ETag.ToString()));
        return upstreams.Concat(routes).ToDictionary(p => p.Item1, p => p.Item2);
    }

    /// <summary>Whether the import created this test's tables at all.</summary>
    public async Task<bool> TablesExistAsync()
    {
        await foreach (var _ in _service.QueryAsync(t => t.Name == Prefix + "Routes" || t.Name == Prefix + "Upstreams"))
        {
            return true;
        }

        return false;
    }

    /// <summary>Writes an entity as a person with a storage explorer would, bypassing the CLI; creates both tables as the gateway does.</summary>
    public async Task WriteEntityDirectlyAsync(TableClient table, TableEntity entity)
    {
        await RoutesTable.CreateIfNotExistsAsync();
        await UpstreamsTable.CreateIfNotExistsAsync();
        await table.UpsertEntityAsync(entity, TableUpdateMode.Replace);
    }

    public void Dispose() => _directory.Delete(recursive: true);
}
