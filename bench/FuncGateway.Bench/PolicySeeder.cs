using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Azure.Data.Tables;

namespace FuncGateway.Bench;

/// <summary>
/// The policy contenders of bench/run.sh <c>--policies</c> (issue #11): an RSA key made here (its public half as a
/// JWKS, and one RS256 token signed with it that the load generator repeats), one API key in <c>{P}ApiKeys</c>, and
/// three routes of the same shape as the <c>svc</c> ones:
/// <list type="bullet">
/// <item><c>/pol-jwt/items/{id}</c> — <c>Auth = bench_jwt</c> (RS256, static JWKS);</item>
/// <item><c>/pol-key/items/{id}</c> — <c>Auth = bench_keys</c> (API key from the table, cached);</item>
/// <item><c>/pol-full/items/{id}</c> — <c>Auth = bench_jwt,bench_keys</c>, <c>RateLimit = fast</c> (fast mode, never
/// reached), on pool <c>balanced</c>: two instances (the upstream under two base paths), <c>PowerOfTwoChoices</c>, an
/// active health check.</item>
/// </list>
/// bench/run.sh configures the policies <c>bench_jwt</c>, <c>bench_keys</c> and <c>fast</c> with the files written here.
/// </summary>
internal static class PolicySeeder
{
    public const string Issuer = "https://bench.funcgateway.test/";
    public const string Audience = "api://bench";
    public const string BalancedPool = "balanced";

    public static async Task<int> SeedAsync(TableServiceClient service, string prefix, string upstream, string outputDirectory, CancellationToken cancellationToken)
    {
        using var rsa = RSA.Create(2048);
        var p = rsa.ExportParameters(false);
        var jwks = JsonSerializer.Serialize(new
        {
            keys = new[] { new { kty = "RSA", kid = "bench", use = "sig", alg = "RS256", n = B64(p.Modulus!), e = B64(p.Exponent!) } },
        });
        var now = TimeProvider.System.GetUtcNow().ToUnixTimeSeconds();
        var header = B64(JsonSerializer.SerializeToUtf8Bytes(new { alg = "RS256", typ = "JWT", kid = "bench" }));
        var payload = B64(JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
        {
            ["iss"] = Issuer,
            ["aud"] = Audience,
            ["sub"] = "bench-user",
            ["scope"] = "bench.read",
            ["roles"] = "reader",
            ["azp"] = "bench-client",
            ["iat"] = now,
            ["exp"] = now + 24 * 3600,
        }));
        var input = header + "." + payload;
        var token = input + "." + B64(rsa.SignData(Encoding.ASCII.GetBytes(input), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));

        // The API key and its row, in the format of ApiKeyFormat (README "Managing keys with fgw").
        var key = "fgw_" + B64(RandomNumberGenerator.GetBytes(32));
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
        var keys = service.GetTableClient(prefix + "ApiKeys");
        await keys.CreateIfNotExistsAsync(cancellationToken);
        await keys.UpsertEntityAsync(new TableEntity(hash[..2], hash)
        {
            ["KeyId"] = "k-bench",
            ["ConsumerId"] = "bench",
            ["Name"] = "bench",
            ["Scopes"] = "bench.read",
            ["Enabled"] = true,
            ["CreatedAt"] = TimeProvider.System.GetUtcNow(),
        }, TableUpdateMode.Replace, cancellationToken);

        var upstreams = service.GetTableClient(prefix + "Upstreams");
        await upstreams.UpsertEntityAsync(new TableEntity(RouteSeeder.Partition, BalancedPool)
        {
            ["Instances"] = JsonSerializer.Serialize(new[] { upstream + "/a", upstream + "/b" }),
            ["LoadBalancing"] = "PowerOfTwoChoices",
            ["HealthCheck"] = """{"path":"/health","intervalSeconds":5}""",
        }, TableUpdateMode.Replace, cancellationToken);

        var routes = service.GetTableClient(prefix + "Routes");
        foreach (var (id, auth, pool, rateLimit) in new[]
        {
            ("pol-jwt", "bench_jwt", RouteSeeder.PoolName, (string?)null),
            ("pol-key", "bench_keys", RouteSeeder.PoolName, null),
            ("pol-full", "bench_jwt,bench_keys", BalancedPool, "fast"),
        })
        {
            var route = new TableEntity(RouteSeeder.Partition, id) { ["Path"] = $"/{id}/items/{{id}}", ["Upstream"] = pool, ["Auth"] = auth };
            if (rateLimit is not null)
            {
                route["RateLimit"] = rateLimit;
            }

            await routes.UpsertEntityAsync(route, TableUpdateMode.Replace, cancellationToken);
        }

        await File.WriteAllTextAsync(Path.Combine(outputDirectory, "jwks.json"), jwks, cancellationToken);
        await File.WriteAllTextAsync(Path.Combine(outputDirectory, "token.txt"), token, cancellationToken);
        await File.WriteAllTextAsync(Path.Combine(outputDirectory, "apikey.txt"), key, cancellationToken);
        return 3;
    }

    private static string B64(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
