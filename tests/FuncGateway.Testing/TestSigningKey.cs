using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;

namespace FuncGateway.Testing;

/// <summary>A key pair generated in the test (RSA 2048 or EC P-256), its public JWK, and a token minter.</summary>
public sealed class TestSigningKey : IDisposable
{
    private readonly RSA? _rsa;
    private readonly ECDsa? _ec;

    private TestSigningKey(string kid, RSA? rsa, ECDsa? ec)
    {
        Kid = kid;
        _rsa = rsa;
        _ec = ec;
    }

    public string Kid { get; }

    /// <summary>RS256 or ES256.</summary>
    public string Algorithm => _rsa is not null ? "RS256" : "ES256";

    public static TestSigningKey Rsa(string kid) => new(kid, RSA.Create(2048), null);

    public static TestSigningKey Ec(string kid) => new(kid, null, ECDsa.Create(ECCurve.NamedCurves.nistP256));

    /// <summary>The public key as a JWK object.</summary>
    public JsonObject PublicJwk()
    {
        if (_rsa is not null)
        {
            var p = _rsa.ExportParameters(false);
            return new JsonObject { ["kty"] = "RSA", ["kid"] = Kid, ["use"] = "sig", ["alg"] = "RS256", ["n"] = B64(p.Modulus!), ["e"] = B64(p.Exponent!) };
        }

        var q = _ec!.ExportParameters(false);
        return new JsonObject { ["kty"] = "EC", ["kid"] = Kid, ["use"] = "sig", ["crv"] = "P-256", ["x"] = B64(q.Q.X!), ["y"] = B64(q.Q.Y!) };
    }

    /// <summary>The public key's SubjectPublicKeyInfo (DER) in PEM, as an attacker could find it.</summary>
    public string PublicPem() => _rsa is not null ? _rsa.ExportSubjectPublicKeyInfoPem() : _ec!.ExportSubjectPublicKeyInfoPem();

    /// <summary>A JWKS document with the given keys.</summary>
    public static string Jwks(IEnumerable<TestSigningKey> keys) =>
        new JsonObject { ["keys"] = new JsonArray([.. keys.Select(k => (JsonNode)k.PublicJwk())]) }.ToJsonString();

    /// <summary>
    /// Mints a signed token: header <c>{"alg","typ":"JWT","kid"}</c> plus <paramref name="header"/>, payload
    /// <c>iss</c>, <c>aud</c>, <c>exp</c> (in 5 minutes unless <paramref name="expires"/>; none when <paramref name="withExp"/> is
    /// false), <c>nbf</c> when given, and <paramref name="claims"/>.
    /// </summary>
    public string Mint(
        string issuer,
        string audience,
        IDictionary<string, object?>? claims = null,
        DateTimeOffset? expires = null,
        DateTimeOffset? notBefore = null,
        bool withExp = true,
        IDictionary<string, object?>? header = null,
        string? kid = null)
    {
        var h = new Dictionary<string, object?> { ["alg"] = Algorithm, ["typ"] = "JWT", ["kid"] = kid ?? Kid };
        foreach (var (name, value) in header ?? new Dictionary<string, object?>())
        {
            h[name] = value;
        }

        var payload = Payload(issuer, audience, claims, expires, notBefore, withExp);
        var input = Encode(h) + "." + Encode(payload);
        return input + "." + B64(Sign(input));
    }

    /// <summary>
    /// A token whose header and payload are exactly the given JSON texts, properly signed: for what a serializer never
    /// writes (duplicate members, a string where a number belongs), so that is the token's only defect.
    /// </summary>
    public string MintJson(string headerJson, string payloadJson)
    {
        var input = B64(Encoding.UTF8.GetBytes(headerJson)) + "." + B64(Encoding.UTF8.GetBytes(payloadJson));
        return input + "." + B64(Sign(input));
    }

    /// <summary>The raw signature of a signing input (<c>header.payload</c>, taken as given), with SHA-256.</summary>
    public byte[] Sign(string signingInput)
    {
        var data = Encoding.ASCII.GetBytes(signingInput);
        return _rsa is not null
            ? _rsa.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            : _ec!.SignData(data, HashAlgorithmName.SHA256);
    }

    public static Dictionary<string, object?> Payload(string issuer, string audience, IDictionary<string, object?>? claims = null,
        DateTimeOffset? expires = null, DateTimeOffset? notBefore = null, bool withExp = true)
    {
        var payload = new Dictionary<string, object?> { ["iss"] = issuer, ["aud"] = audience, ["iat"] = TimeProvider.System.GetUtcNow().ToUnixTimeSeconds() };
        if (withExp)
        {
            payload["exp"] = (expires ?? TimeProvider.System.GetUtcNow().AddMinutes(5)).ToUnixTimeSeconds();
        }

        if (notBefore is { } nbf)
        {
            payload["nbf"] = nbf.ToUnixTimeSeconds();
        }

        foreach (var (name, value) in claims ?? new Dictionary<string, object?>())
        {
            payload[name] = value;
        }

        return payload;
    }

    /// <summary>A token with any header and an HMAC-SHA256 signature keyed by <paramref name="secret"/> (or none when null).</summary>
    public static string Forge(IDictionary<string, object?> header, IDictionary<string, object?> payload, byte[]? secret)
    {
        var input = Encode(header) + "." + Encode(payload);
        return secret is null ? input + "." : input + "." + B64(HMACSHA256.HashData(secret, Encoding.ASCII.GetBytes(input)));
    }

    public static string B64(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static string Encode(IDictionary<string, object?> value) => B64(JsonSerializer.SerializeToUtf8Bytes(value));

    public void Dispose()
    {
        _rsa?.Dispose();
        _ec?.Dispose();
    }
}

/// <summary>
/// An identity provider on a real Kestrel server: an OIDC discovery document and a JWKS whose keys the test rotates,
/// with fetch counters, and a switch that makes it answer 503 (down).
/// </summary>
public sealed class TestIdentityProvider : IAsyncDisposable
{
    private readonly List<TestSigningKey> _keys = [];
    private readonly Lock _gate = new();
    private TestUpstream _server = null!;
    private int _jwksFetches;
    private int _discoveryFetches;

    public string Issuer { get; } = "https://idp.funcgateway.test/" + Guid.NewGuid().ToString("N")[..8];

    public int JwksFetches => Volatile.Read(ref _jwksFetches);

    public int DiscoveryFetches => Volatile.Read(ref _discoveryFetches);

    public bool Down { get; set; }

    public Uri JwksUri => new(_server.BaseAddress, "jwks");

    public Uri MetadataAddress => new(_server.BaseAddress, ".well-known/openid-configuration");

    public static async Task<TestIdentityProvider> StartAsync(params TestSigningKey[] keys)
    {
        var idp = new TestIdentityProvider();
        idp._keys.AddRange(keys);
        idp._server = await TestUpstream.StartAsync("idp", app => ((IApplicationBuilder)app).Run(idp.HandleAsync));
        return idp;
    }

    public void Add(TestSigningKey key)
    {
        lock (_gate)
        {
            _keys.Add(key);
        }
    }

    public void Remove(string kid)
    {
        lock (_gate)
        {
            _keys.RemoveAll(k => k.Kid == kid);
        }
    }

    private async Task HandleAsync(HttpContext context)
    {
        if (Down)
        {
            context.Response.StatusCode = 503;
            return;
        }

        context.Response.ContentType = "application/json";
        if (context.Request.Path == "/jwks")
        {
            Interlocked.Increment(ref _jwksFetches);
            string body;
            lock (_gate)
            {
                body = TestSigningKey.Jwks(_keys);
            }

            await context.Response.WriteAsync(body);
            return;
        }

        if (context.Request.Path == "/.well-known/openid-configuration")
        {
            Interlocked.Increment(ref _discoveryFetches);
            await context.Response.WriteAsync(JsonSerializer.Serialize(new Dictionary<string, string>
            {
                ["issuer"] = Issuer,
                ["jwks_uri"] = JwksUri.ToString(),
                ["authorization_endpoint"] = new Uri(_server.BaseAddress, "authorize").ToString(),
            }));
            return;
        }

        context.Response.StatusCode = 404;
    }

    public ValueTask DisposeAsync() => _server.DisposeAsync();
}
