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
/// <c>/tx-headers/items/{id}</c>): the same route twice, the second with <see cref="HeaderTransforms"/>;
/// <c>--cache true</c> also <c>cache-plain</c> and <c>cache-hit</c>, the second with <see cref="CacheProperty"/>; with
/// <c>--policies-dir DIR</c> also the policy routes of <see cref="PolicySeeder"/>, their key and token written to DIR. With
/// <c>--validation true</c> also <c>val-plain</c> and <c>val-schema</c> (<c>/val-plain/items/{id}</c>,
/// <c>/val-schema/items/{id}</c>), the second validating POST bodies against <see cref="OrderSchema"/> (row
/// <c>bench-order</c> of <c>{prefix}Schemas</c>), which bench/validation-body.json satisfies. With
/// <c>--body-transforms true</c> also <c>bt-plain</c> and <c>bt-mapped</c>, the second mapping the same POST body's
/// fields with <see cref="BodyMapping"/>.
/// </summary>
internal static class RouteSeeder
{
    public const string PoolName = "bench";
    public const string Partition = "bench";
    private const int CatchAllEvery = 200;

    /// <summary>A shared cache with an hour's TTL (docs/caching.md): every request after the first is a hit.</summary>
    public const string CacheProperty = """{"ttlSeconds":3600}""";

    /// <summary>Header-only transforms, both ways, with a constant, a gateway value and a path parameter (docs/transforms.md).</summary>
    public const string HeaderTransforms = """
        [{"RequestHeader":"X-Api-Version","Set":"2"},{"RequestHeader":"X-Request-Id","SetIfMissing":"{RequestId}"},
        {"RequestHeader":"X-Route","Set":"{RouteId}/{Route:id}"},{"RequestHeaderRemove":"X-Debug"},
        {"ResponseHeaderRemove":"Server"},{"ResponseHeader":"X-Frame-Options","Set":"DENY"}]
        """;

    /// <summary>The schema of bench/validation-body.json: what an order endpoint would check (docs/validation.md).</summary>
    public const string OrderSchema = """
        {"type":"object","required":["customerId","currency","items"],"additionalProperties":false,
         "properties":{"customerId":{"type":"string","format":"uuid"},"currency":{"type":"string","pattern":"^[A-Z]{3}$"},
          "items":{"type":"array","minItems":1,"maxItems":500,"items":{"type":"object","required":["sku","quantity","price"],
           "additionalProperties":false,"properties":{"sku":{"type":"string","maxLength":32},"quantity":{"type":"integer","minimum":1},
            "price":{"type":"number","exclusiveMinimum":0},"note":{"type":"string","maxLength":200}}}}}}
        """;

    /// <summary>A field mapping of bench/validation-body.json (docs/transforms.md): a move, defaults (one in every item) and a removal in every item.</summary>
    public const string BodyMapping = """
        [{"RequestBodyMove":"/customerId","To":"/customer/id"},{"RequestBodyDefault":"/channel","Value":"\"web\""},
        {"RequestBodyDefault":"/items/*/giftWrap","Value":"false"},{"RequestBodyRemove":"/items/*/note"}]
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
        var cache = Flag(options, "cache");
        var policiesDirectory = options.Optional("policies-dir");
        var validation = Flag(options, "validation");
        var bodyTransforms = Flag(options, "body-transforms");

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

        string[] cached = cache ? ["plain", "hit"] : [];
        foreach (var variant in cached)
        {
            var entity = new TableEntity(Partition, "cache-" + variant)
            {
                ["Path"] = $"/cache-{variant}/items/{{id}}",
                ["Upstream"] = PoolName,
                ["Auth"] = "anonymous",
            };
            if (variant == "hit")
            {
                entity["Cache"] = CacheProperty;
            }

            await routes.UpsertEntityAsync(entity, TableUpdateMode.Replace, cancellationToken);
        }

        string[] validated = validation ? ["plain", "schema"] : [];
        if (validation)
        {
            var schemas = service.GetTableClient(prefix + "Schemas");
            await schemas.CreateIfNotExistsAsync(cancellationToken);
            await schemas.UpsertEntityAsync(new TableEntity(Partition, "bench-order") { ["Schema"] = OrderSchema }, TableUpdateMode.Replace, cancellationToken);
        }

        foreach (var variant in validated)
        {
            var entity = new TableEntity(Partition, "val-" + variant)
            {
                ["Path"] = $"/val-{variant}/items/{{id}}",
                ["Upstream"] = PoolName,
                ["Auth"] = "anonymous",
            };
            if (variant == "schema")
            {
                entity["Validation"] = """{"schema":"bench-order"}""";
            }

            await routes.UpsertEntityAsync(entity, TableUpdateMode.Replace, cancellationToken);
        }

        string[] mapped = bodyTransforms ? ["plain", "mapped"] : [];
        if (bodyTransforms)
        {
            // The same route shape twice: /bt-plain/items/{id}, and /bt-mapped/items/{id} with the mapping.
            await routes.UpsertEntityAsync(new TableEntity(Partition, "bt-plain") { ["Path"] = "/bt-plain/items/{id}", ["Upstream"] = PoolName, ["Auth"] = "anonymous" },
                TableUpdateMode.Replace, cancellationToken);
            await routes.UpsertEntityAsync(new TableEntity(Partition, "bt-mapped") { ["Path"] = "/bt-mapped/items/{id}", ["Upstream"] = PoolName, ["Auth"] = "anonymous", ["Transforms"] = BodyMapping },
                TableUpdateMode.Replace, cancellationToken);
        }

        var policyRoutes = policiesDirectory is null ? 0 : await PolicySeeder.SeedAsync(service, prefix, upstream, policiesDirectory, cancellationToken);

        // Read back what the gateway will read, so a silent write problem fails here and not as a mystery 404 later.
        var written = 0;
        await foreach (var page in routes.QueryAsync<TableEntity>(select: ["RowKey"], cancellationToken: cancellationToken).AsPages())
        {
            written += page.Values.Count;
        }

        var expected = count + limited.Length + transformed.Length + cached.Length + validated.Length + mapped.Length + policyRoutes;
        if (written != expected)
        {
            await Console.Error.WriteLineAsync($"error: wrote {expected} routes but the table holds {written}.");
            return 1;
        }

        Console.WriteLine($"seeded {count} routes{(rateLimited ? " and 2 rate-limited ones" : "")}{(transforms ? " and a plain and a transformed one" : "")}{(cache ? " and a plain and a cached one" : "")}{(validation ? " and a plain and a schema-validated POST one" : "")}{(bodyTransforms ? " and a plain and a body-mapping POST one" : "")}{(policyRoutes > 0 ? " and 3 policy routes" : "")} into {routes.Name} and pool '{PoolName}' → {upstream} into {upstreams.Name}");
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
