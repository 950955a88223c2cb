using System.Globalization;
using System.Text.Json;
using Azure.Data.Tables;

namespace FuncGateway.Bench;

/// <summary>
/// Writes the benchmark's registry straight into the tables, in the entity format of the main README ("Route
/// registry: table entity formats"): one pool <see cref="PoolName"/> with the upstream as its only instance, and
/// routes <c>r0001</c>…<c>rNNNN</c> on it. Route i has path <c>/svc{i}/items/{id}</c>, except every 200th, which is
/// the catch-all <c>/svc{i}/{**rest}</c>; so <c>/svc{i}/items/7</c> matches route i for every i. With
/// <c>--rate-limited true</c> also <c>rl-fast</c> and <c>rl-strict</c> (<c>/rl-fast/items/{id}</c>, <c>/rl-strict/items/{id}</c>),
/// whose <c>RateLimit</c> names the policies <c>fast</c> and <c>strict</c> that bench/run.sh configures. With
/// <c>--policies-dir DIR</c> also the policy routes of <see cref="PolicySeeder"/>, their key and token written to DIR.
/// </summary>
internal static class RouteSeeder
{
    public const string PoolName = "bench";
    public const string Partition = "bench";
    private const int CatchAllEvery = 200;

    // Azure's limits for one transaction: one partition, at most 100 entities.
    private const int BatchSize = 100;

    public static async Task<int> RunAsync(CommandLine options, CancellationToken cancellationToken)
    {
        var connectionString = options.Required("connection-string");
        var prefix = options.Required("prefix");
        var count = options.Int("routes", 1000, 1, 100_000);
        var upstream = options.AbsoluteHttpUri("upstream").GetLeftPart(UriPartial.Authority);
        var rateLimited = options.Optional("rate-limited") switch
        {
            null or "false" => false,
            "true" => true,
            var other => throw new UsageException($"--rate-limited must be true or false, not '{other}'."),
        };
        var policiesDirectory = options.Optional("policies-dir");

        var service = new TableServiceClient(connectionString);
        var routes = service.GetTableClient(prefix + "Routes");
        var upstreams = service.GetTableClient(prefix + "Upstreams");
        await routes.CreateIfNotExistsAsync(cancellationToken);
        await upstreams.CreateIfNotExistsAsync(cancellationToken);

        var instances = JsonSerializer.Serialize(new[] { new { url = upstream } });
        await upstreams.UpsertEntityAsync(new TableEntity(Partition, PoolName) { ["Instances"] = instances }, TableUpdateMode.Replace, cancellationToken);

        var batch = new List<TableTransactionAction>(BatchSize);
        for (var i = 1; i <= count; i++)
        {
            batch.Add(new TableTransactionAction(TableTransactionActionType.UpsertReplace, new TableEntity(Partition, RouteId(i))
            {
                ["Path"] = PathOf(i),
                ["Upstream"] = PoolName,
                ["Auth"] = "anonymous",
            }));
            if (batch.Count == BatchSize || i == count)
            {
                await routes.SubmitTransactionAsync(batch, cancellationToken);
                batch.Clear();
            }
        }

        string[] limited = rateLimited ? ["fast", "strict"] : [];
        foreach (var policy in limited)
        {
            await routes.UpsertEntityAsync(new TableEntity(Partition, "rl-" + policy)
            {
                ["Path"] = $"/rl-{policy}/items/{{id}}",
                ["Upstream"] = PoolName,
                ["Auth"] = "anonymous",
                ["RateLimit"] = policy,
            }, TableUpdateMode.Replace, cancellationToken);
        }

        var policyRoutes = policiesDirectory is null ? 0 : await PolicySeeder.SeedAsync(service, prefix, upstream, policiesDirectory, cancellationToken);

        // Read back what the gateway will read, so a silent write problem fails here and not as a mystery 404 later.
        var written = 0;
        await foreach (var page in routes.QueryAsync<TableEntity>(select: ["RowKey"], cancellationToken: cancellationToken).AsPages())
        {
            written += page.Values.Count;
        }

        if (written != count + limited.Length + policyRoutes)
        {
            await Console.Error.WriteLineAsync($"error: wrote {count + limited.Length + policyRoutes} routes but the table holds {written}.");
            return 1;
        }

        Console.WriteLine($"seeded {count} routes{(rateLimited ? " and 2 rate-limited ones" : "")}{(policyRoutes > 0 ? " and 3 policy routes" : "")} into {routes.Name} and pool '{PoolName}' → {upstream} into {upstreams.Name}");
        return 0;
    }

    public static string RouteId(int i) => "r" + i.ToString("D5", CultureInfo.InvariantCulture);

    public static string PathOf(int i) => i % CatchAllEvery == 0
        ? string.Create(CultureInfo.InvariantCulture, $"/svc{i}/{{**rest}}")
        : string.Create(CultureInfo.InvariantCulture, $"/svc{i}/items/{{id}}");
}
