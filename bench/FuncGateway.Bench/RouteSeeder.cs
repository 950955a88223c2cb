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
/// <c>--transforms true</c> also <c>tx-plain</c> and <c>tx-headers</c> (<c>/tx-plain/items/{id}</c>,
/// <c>/tx-headers/items/{id}</c>): the same route twice, the second with <see cref="HeaderTransforms"/>.
/// </summary>
internal static class RouteSeeder
{
    public const string PoolName = "bench";
    public const string Partition = "bench";
    private const int CatchAllEvery = 200;

    /// <summary>Header-only transforms, both ways, with a constant, a gateway value and a path parameter (docs/transforms.md).</summary>
    public const string HeaderTransforms = """
        [{"RequestHeader":"X-Api-Version","Set":"2"},{"RequestHeader":"X-Request-Id","SetIfMissing":"{RequestId}"},
        {"RequestHeader":"X-Route","Set":"{RouteId}/{Route:id}"},{"RequestHeaderRemove":"X-Debug"},
        {"ResponseHeaderRemove":"Server"},{"ResponseHeader":"X-Frame-Options","Set":"DENY"}]
        """;

    // Azure's limits for one transaction: one partition, at most 100 entities.
    private const int BatchSize = 100;

    public static async Task<int> RunAsync(CommandLine options, CancellationToken cancellationToken)
    {
        var connectionString = options.Required("connection-string");
        var prefix = options.Required("prefix");
        var count = options.Int("routes", 1000, 1, 100_000);
        var upstream = options.AbsoluteHttpUri("upstream").GetLeftPart(UriPartial.Authority);
        var rateLimited = Flag(options, "rate-limited");
        var transforms = Flag(options, "transforms");

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

        string[] transformed = transforms ? ["plain", "headers"] : [];
        foreach (var variant in transformed)
        {
            var entity = new TableEntity(Partition, "tx-" + variant)
            {
                ["Path"] = $"/tx-{variant}/items/{{id}}",
                ["Upstream"] = PoolName,
                ["Auth"] = "anonymous",
            };
            if (variant == "headers")
            {
                entity["Transforms"] = HeaderTransforms;
            }

            await routes.UpsertEntityAsync(entity, TableUpdateMode.Replace, cancellationToken);
        }

        // Read back what the gateway will read, so a silent write problem fails here and not as a mystery 404 later.
        var written = 0;
        await foreach (var page in routes.QueryAsync<TableEntity>(select: ["RowKey"], cancellationToken: cancellationToken).AsPages())
        {
            written += page.Values.Count;
        }

        if (written != count + limited.Length + transformed.Length)
        {
            await Console.Error.WriteLineAsync($"error: wrote {count + limited.Length + transformed.Length} routes but the table holds {written}.");
            return 1;
        }

        Console.WriteLine($"seeded {count} routes{(rateLimited ? " and 2 rate-limited ones" : "")}{(transforms ? " and a plain and a transformed one" : "")} into {routes.Name} and pool '{PoolName}' → {upstream} into {upstreams.Name}");
        return 0;
    }

    private static bool Flag(CommandLine options, string name) => options.Optional(name) switch
    {
        null or "false" => false,
        "true" => true,
        var other => throw new UsageException($"--{name} must be true or false, not '{other}'."),
    };

    public static string RouteId(int i) => "r" + i.ToString("D5", CultureInfo.InvariantCulture);

    public static string PathOf(int i) => i % CatchAllEvery == 0
        ? string.Create(CultureInfo.InvariantCulture, $"/svc{i}/{{**rest}}")
        : string.Create(CultureInfo.InvariantCulture, $"/svc{i}/items/{{id}}");
}
