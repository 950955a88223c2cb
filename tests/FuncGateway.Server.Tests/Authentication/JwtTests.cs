using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using FuncGateway.Server.Tests.Infrastructure;
using FuncGateway.Testing;

namespace FuncGateway.Server.Tests.Authentication;

/// <summary>
/// JWT bearer policies end to end: real RSA and EC keys, a real JWKS/discovery server that rotates keys and counts
/// fetches. The RFC 8725 / RFC 9068 strictness tests are in JwtTests.Strictness.cs.
/// </summary>
[Collection("Azurite")]
public sealed partial class JwtTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private const string Audience = "api://orders";

    private readonly TestSigningKey _rsa = TestSigningKey.Rsa("rsa-1");
    private readonly TestSigningKey _ec = TestSigningKey.Ec("ec-1");
    private TestIdentityProvider _idp = null!;
    private TestUpstream _echo = null!;
    private GatewayHost _gateway = null!;

    public async Task InitializeAsync()
    {
        _idp = await TestIdentityProvider.StartAsync(_rsa, _ec);
        _echo = await TestUpstream.StartAsync("echo");
        var settings = new Dictionary<string, string?>();
        void Policy(string name, params (string Key, string Value)[] values)
        {
            settings[$"FuncGateway:Auth:Policies:{name}:Type"] = "Jwt";
            settings[$"FuncGateway:Auth:Policies:{name}:Issuer"] = _idp.Issuer;
            settings[$"FuncGateway:Auth:Policies:{name}:Audiences"] = Audience + ",api://other";
            settings[$"FuncGateway:Auth:Policies:{name}:RequireHttpsMetadata"] = "false";
            settings[$"FuncGateway:Auth:Policies:{name}:Algorithms"] = "RS256,ES256";
            foreach (var (key, value) in values)
            {
                settings[$"FuncGateway:Auth:Policies:{name}:{key}"] = value;
            }
        }

        Policy("corp", ("JwksUri", _idp.JwksUri.ToString()), ("UnknownKeyRefreshSeconds", "60"), ("KeyRefreshSeconds", "600"),
            ("TierClaim", "tier"), ("ClaimHeaders:X-User-Tenant", "tid"));
        Policy("fast", ("JwksUri", _idp.JwksUri.ToString()), ("UnknownKeyRefreshSeconds", "1"), ("KeyRefreshSeconds", "1"));
        Policy("disco", ("MetadataAddress", _idp.MetadataAddress.ToString()));
        Policy("fwd", ("JwksUri", _idp.JwksUri.ToString()), ("ForwardToken", "true"));
        Policy("dead", ("JwksUri", "http://127.0.0.1:1/jwks"), ("MetadataTimeoutSeconds", "2"));
        Policy("access", ("JwksUri", _idp.JwksUri.ToString()), ("RequireTyp", "at+jwt"));
        Policy("short", ("JwksUri", _idp.JwksUri.ToString()), ("MaxTokenLifetimeSeconds", "3600"));
        Policy("cached", ("JwksUri", _idp.JwksUri.ToString()), ("KeyRefreshSeconds", "2"), ("UnknownKeyRefreshSeconds", "1"), ("TokenCacheSeconds", "600"));
        Policy("narrow", ("JwksUri", _idp.JwksUri.ToString()), ("Audiences", "api://narrow"), ("TokenCacheSeconds", "600"));

        // One RSA public key published three times: only to encrypt, to sign and verify, and with key_ops left out.
        var n = _rsa.PublicJwk()["n"]!.GetValue<string>();
        Policy("ops", ("Jwks", $$"""
            {"keys":[
              {"kty":"RSA","kid":"encrypt-only","key_ops":["encrypt","wrapKey"],"n":"{{n}}","e":"AQAB"},
              {"kty":"RSA","kid":"verify","key_ops":["sign","verify"],"n":"{{n}}","e":"AQAB"},
              {"kty":"RSA","kid":"no-ops","n":"{{n}}","e":"AQAB"}
            ]}
            """));

        // These tests send dozens of bad tokens from one address to check each answer; the failure throttle (on by
        // default, tested in RateLimiting/IdentityRateLimitTests) would rightly turn them into 429s.
        settings["FuncGateway:RateLimits:AuthenticationFailures:Enabled"] = "false";
        _gateway = await GatewayHost.StartAsync(azurite.ConnectionString, settings);
        await _gateway.UpsertUpstreamAsync("echo", _echo.BaseAddress);
        await _gateway.UpsertRouteAsync("jwt", "/jwt/{**rest}", "echo", ("Auth", "corp"));
        await _gateway.UpsertRouteAsync("fast", "/fast/{**rest}", "echo", ("Auth", "fast"));
        await _gateway.UpsertRouteAsync("disco", "/disco/{**rest}", "echo", ("Auth", "disco"));
        await _gateway.UpsertRouteAsync("fwd", "/fwd/{**rest}", "echo", ("Auth", "fwd"));
        await _gateway.UpsertRouteAsync("dead", "/dead/{**rest}", "echo", ("Auth", "dead"));
        await _gateway.UpsertRouteAsync("admins", "/admins/{**rest}", "echo", ("Auth", "corp"), ("Authorization", """{"roles":["admin"]}"""));
        await _gateway.UpsertRouteAsync("writers", "/writers/{**rest}", "echo", ("Auth", "corp"), ("Authorization", """{"scopes":["orders.write"],"claims":{"tid":["contoso"]}}"""));
        await _gateway.UpsertRouteAsync("ws", "/ws/{**rest}", "echo", ("Auth", "corp"), ("TokenQueryParameter", "access_token"));
        await _gateway.UpsertRouteAsync("access", "/access/{**rest}", "echo", ("Auth", "access"));
        await _gateway.UpsertRouteAsync("short", "/short/{**rest}", "echo", ("Auth", "short"));
        await _gateway.UpsertRouteAsync("cached", "/cached/{**rest}", "echo", ("Auth", "cached"));
        await _gateway.UpsertRouteAsync("narrow", "/narrow/{**rest}", "echo", ("Auth", "narrow"));
        await _gateway.UpsertRouteAsync("ops", "/ops/{**rest}", "echo", ("Auth", "ops"));
        await _gateway.ReloadAsync();
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _echo.DisposeAsync();
        await _idp.DisposeAsync();
        _rsa.Dispose();
        _ec.Dispose();
    }

    private static Dictionary<string, object?> UserClaims => new()
    {
        ["sub"] = "user-42",
        ["email"] = "ada@example.com",
        ["roles"] = new[] { "reader", "admin" },
        ["scope"] = "orders.read orders.write",
        ["azp"] = "mobile-app",
        ["tier"] = "gold",
        ["tid"] = "contoso",
    };

    private Task<HttpResponseMessage> SendAsync(string path, string? token, Action<HttpRequestMessage>? configure = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        configure?.Invoke(request);
        return _gateway.Client.SendAsync(request);
    }

    /// <summary>Sends the token every 250 ms until it is no longer accepted (at most 10 s); the last status.</summary>
    private async Task<HttpStatusCode> StatusOnceRefusedAsync(string path, string token)
    {
        var deadline = TimeProvider.System.GetUtcNow().AddSeconds(10);
        HttpStatusCode status;
        do
        {
            await Task.Delay(250);
            using var response = await SendAsync(path, token);
            status = response.StatusCode;
        }
        while (status == HttpStatusCode.OK && TimeProvider.System.GetUtcNow() < deadline);

        return status;
    }

    [Fact]
    public async Task Valid_RS256_and_ES256_tokens_reach_the_upstream_with_the_user_context_and_without_the_token()
    {
        foreach (var key in new[] { _rsa, _ec })
        {
            using var response = await SendAsync("/jwt/orders?x=1", key.Mint(_idp.Issuer, Audience, UserClaims));
            var echo = await Echo.ReadAsync(response);

            Assert.Equal("user-42", echo.Header("X-User-Id").Single());
            Assert.Equal("ada@example.com", echo.Header("X-User-Email").Single());
            Assert.Equal("reader,admin", echo.Header("X-User-Roles").Single());
            Assert.Equal("orders.read,orders.write", echo.Header("X-User-Scopes").Single());
            Assert.Equal("mobile-app", echo.Header("X-Consumer-Id").Single());
            Assert.Equal("gold", echo.Header("X-Consumer-Tier").Single());
            Assert.Equal("contoso", echo.Header("X-User-Tenant").Single());
            Assert.Equal("corp", echo.Header("X-Gateway-Auth-Policy").Single());
            Assert.Empty(echo.Header("Authorization"));
            Assert.Equal("?x=1", echo.Query);
        }
    }

    [Fact]
    public async Task Every_kind_of_bad_token_gets_401_invalid_token_and_never_reaches_the_upstream()
    {
        var now = TimeProvider.System.GetUtcNow();
        var header = new Dictionary<string, object?> { ["typ"] = "JWT", ["kid"] = _rsa.Kid };
        var payload = TestSigningKey.Payload(_idp.Issuer, Audience, UserClaims);
        using var otherKey = TestSigningKey.Rsa("rsa-1");
        var cases = new Dictionary<string, string>
        {
            ["expired"] = _rsa.Mint(_idp.Issuer, Audience, UserClaims, expires: now.AddMinutes(-5)),
            ["not yet valid"] = _rsa.Mint(_idp.Issuer, Audience, UserClaims, notBefore: now.AddMinutes(5), expires: now.AddMinutes(10)),
            ["wrong issuer"] = _rsa.Mint("https://evil.example/", Audience, UserClaims),
            ["wrong audience"] = _rsa.Mint(_idp.Issuer, "api://elsewhere", UserClaims),
            ["audience with a trailing slash"] = _rsa.Mint(_idp.Issuer, Audience + "/", UserClaims),
            ["issuer with a trailing slash"] = _rsa.Mint(_idp.Issuer + "/", Audience, UserClaims),
            ["no exp"] = _rsa.Mint(_idp.Issuer, Audience, UserClaims, withExp: false),
            ["alg none"] = TestSigningKey.Forge(new Dictionary<string, object?>(header) { ["alg"] = "none" }, payload, null),
            ["alg None"] = TestSigningKey.Forge(new Dictionary<string, object?>(header) { ["alg"] = "None" }, payload, null),
            ["alg NONE"] = TestSigningKey.Forge(new Dictionary<string, object?>(header) { ["alg"] = "NONE" }, payload, null),
            ["alg nOnE"] = TestSigningKey.Forge(new Dictionary<string, object?>(header) { ["alg"] = "nOnE" }, payload, null),
            ["HS256 keyed with the RSA public key (PEM)"] = TestSigningKey.Forge(
                new Dictionary<string, object?>(header) { ["alg"] = "HS256" }, payload, Encoding.UTF8.GetBytes(_rsa.PublicPem())),
            ["HS256 keyed with the RSA public key (JWK n)"] = TestSigningKey.Forge(
                new Dictionary<string, object?>(header) { ["alg"] = "HS256" }, payload, Encoding.UTF8.GetBytes(_rsa.PublicJwk()["n"]!.GetValue<string>())),
            ["embedded jwk of the attacker's key"] = otherKey.Mint(_idp.Issuer, Audience, UserClaims, header: new Dictionary<string, object?> { ["jwk"] = otherKey.PublicJwk() }),
            ["jku pointing elsewhere"] = otherKey.Mint(_idp.Issuer, Audience, UserClaims, header: new Dictionary<string, object?> { ["jku"] = "https://evil.example/jwks" }),
            ["x5u"] = _rsa.Mint(_idp.Issuer, Audience, UserClaims, header: new Dictionary<string, object?> { ["x5u"] = "https://evil.example/cert" }),
            ["signed by another key with a trusted kid"] = otherKey.Mint(_idp.Issuer, Audience, UserClaims),
            ["unknown kid"] = otherKey.Mint(_idp.Issuer, Audience, UserClaims, kid: "nobody"),
            ["not a JWT"] = "not-a-token",
            ["tampered payload"] = TamperPayload(_rsa.Mint(_idp.Issuer, Audience, UserClaims)),
        };

        var before = _echo.RequestCount;
        foreach (var (name, token) in cases)
        {
            using var response = await SendAsync("/jwt/x", token);
            var body = await Problem.AssertAsync(response, HttpStatusCode.Unauthorized, "invalid_token");
            var challenge = response.Headers.WwwAuthenticate.Single();
            Assert.True(challenge.Scheme == "Bearer" && challenge.Parameter!.Contains("error=\"invalid_token\"", StringComparison.Ordinal), name);

            // Never an echo of the token or a library message.
            var text = body.GetRawText();
            Assert.DoesNotContain(token.Split('.')[0], text, StringComparison.Ordinal);
            Assert.DoesNotContain("IDX", text, StringComparison.Ordinal);
        }

        Assert.Equal(before, _echo.RequestCount);
    }

    private static string TamperPayload(string token)
    {
        var parts = token.Split('.');
        var payload = Encoding.UTF8.GetString(Convert.FromBase64String(Pad(parts[1]))).Replace("user-42", "admin-1", StringComparison.Ordinal);
        return parts[0] + "." + TestSigningKey.B64(Encoding.UTF8.GetBytes(payload)) + "." + parts[2];

        static string Pad(string s) => s.Replace('-', '+').Replace('_', '/') + new string('=', (4 - s.Length % 4) % 4);
    }

    [Fact]
    public async Task A_JWKS_key_whose_key_ops_leave_out_verify_never_verifies_a_token()
    {
        await AssertAcceptedAsync("/ops/x", _rsa.Mint(_idp.Issuer, Audience, UserClaims, kid: "verify"), "key_ops with verify");
        await AssertAcceptedAsync("/ops/x", _rsa.Mint(_idp.Issuer, Audience, UserClaims, kid: "no-ops"), "no key_ops");

        // RFC 7517 §4.3: the key is published for encryption only; a token naming it is signed by no signing key.
        await AssertRefusedAsync("/ops/x", _rsa.Mint(_idp.Issuer, Audience, UserClaims, kid: "encrypt-only"), "key_ops without verify",
            "The token's signing key is not known.");
    }

    [Fact]
    public async Task No_token_gets_401_unauthenticated_with_a_bare_Bearer_challenge()
    {
        using var response = await SendAsync("/jwt/x", null);

        await Problem.AssertAsync(response, HttpStatusCode.Unauthorized, "unauthenticated");
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().ToString());
        Assert.Equal(0, _echo.RequestCount);
    }

    [Fact]
    public async Task A_flood_of_unknown_kids_costs_at_most_one_JWKS_fetch()
    {
        using (var warm = await SendAsync("/jwt/x", _rsa.Mint(_idp.Issuer, Audience, UserClaims)))
        {
            Assert.Equal(HttpStatusCode.OK, warm.StatusCode);
        }

        var fetches = _idp.JwksFetches;
        using var attacker = TestSigningKey.Rsa("x");
        var flood = Enumerable.Range(0, 60).Select(async i =>
        {
            using var response = await SendAsync("/jwt/x", attacker.Mint(_idp.Issuer, Audience, UserClaims, kid: "random-" + RandomNumberGenerator.GetHexString(8)));
            return response.StatusCode;
        });
        var statuses = await Task.WhenAll(flood);

        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.Unauthorized, s));
        Assert.InRange(_idp.JwksFetches - fetches, 0, 1);
    }

    [Fact]
    public async Task A_new_kid_is_accepted_after_one_fetch_and_a_removed_key_is_refused_after_the_refresh_interval()
    {
        using (var warm = await SendAsync("/fast/x", _rsa.Mint(_idp.Issuer, Audience, UserClaims)))
        {
            Assert.Equal(HttpStatusCode.OK, warm.StatusCode);
        }

        // Past UnknownKeyRefreshSeconds (1 s), so an unknown kid may trigger a fetch.
        await Task.Delay(1200);
        using var rotated = TestSigningKey.Rsa("rsa-2");
        _idp.Add(rotated);
        var fetches = _idp.JwksFetches;
        using (var response = await SendAsync("/fast/x", rotated.Mint(_idp.Issuer, Audience, UserClaims)))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal(1, _idp.JwksFetches - fetches);

        _idp.Remove(_rsa.Kid);
        var old = _rsa.Mint(_idp.Issuer, Audience, UserClaims);
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusOnceRefusedAsync("/fast/x", old));
        using (var stillGood = await SendAsync("/fast/x", rotated.Mint(_idp.Issuer, Audience, UserClaims)))
        {
            Assert.Equal(HttpStatusCode.OK, stillGood.StatusCode);
        }
    }

    [Fact]
    public async Task A_JWKS_that_withdraws_every_key_is_obeyed_not_taken_for_an_IdP_failure()
    {
        var token = _rsa.Mint(_idp.Issuer, Audience, UserClaims);
        foreach (var path in new[] { "/fast/x", "/cached/x", "/cached/x" })
        {
            using var response = await SendAsync(path, token);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        // The IdP answers, with {"keys":[]}: the keys it published are withdrawn (a compromised key pulled in a
        // hurry), which is not the same as an IdP out of reach. Within the refresh bound, cached or not, refused.
        _idp.Remove(_rsa.Kid);
        _idp.Remove(_ec.Kid);
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusOnceRefusedAsync("/fast/x", token));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusOnceRefusedAsync("/cached/x", token));

        // A new key, published once the IdP recovers, is fetched and trusted as usual.
        using var rotated = TestSigningKey.Rsa("rsa-2");
        _idp.Add(rotated);
        Assert.Equal(HttpStatusCode.OK, await StatusOnceAcceptedAsync("/fast/x", rotated.Mint(_idp.Issuer, Audience, UserClaims)));
    }

    /// <summary>Sends the token every 250 ms until it is accepted (at most 10 s); the last status.</summary>
    private async Task<HttpStatusCode> StatusOnceAcceptedAsync(string path, string token)
    {
        var deadline = TimeProvider.System.GetUtcNow().AddSeconds(10);
        HttpStatusCode status;
        do
        {
            await Task.Delay(250);
            using var response = await SendAsync(path, token);
            status = response.StatusCode;
        }
        while (status != HttpStatusCode.OK && TimeProvider.System.GetUtcNow() < deadline);

        return status;
    }

    [Fact]
    public async Task A_repeated_token_served_from_the_cache_is_refused_within_the_refresh_bound_once_its_key_leaves_the_JWKS()
    {
        // One token, sent again and again: after the first, each is a hit in the policy's validated-token cache.
        var token = _rsa.Mint(_idp.Issuer, Audience, UserClaims);
        for (var i = 0; i < 20; i++)
        {
            using var response = await SendAsync("/cached/x", token);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        using (var echoed = await SendAsync("/cached/x", token))
        {
            Assert.Equal("user-42", (await Echo.ReadAsync(echoed)).Header("X-User-Id").Single());
        }

        _idp.Remove(_rsa.Kid);
        var fetches = _idp.JwksFetches;
        // KeyRefreshSeconds is 2: the refresh that drops the key also drops every token validated with it.
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusOnceRefusedAsync("/cached/x", token));
        Assert.True(_idp.JwksFetches > fetches);
        using (var ec = await SendAsync("/cached/x", _ec.Mint(_idp.Issuer, Audience, UserClaims)))
        {
            Assert.Equal(HttpStatusCode.OK, ec.StatusCode);
        }

        using (var again = await SendAsync("/cached/x", token))
        {
            await Problem.AssertAsync(again, HttpStatusCode.Unauthorized, "invalid_token");
        }
    }

    [Fact]
    public async Task A_token_cached_by_one_policy_is_still_refused_by_a_policy_with_other_audiences()
    {
        var token = _rsa.Mint(_idp.Issuer, Audience, UserClaims);
        using (var accepted = await SendAsync("/jwt/x", token))
        {
            Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        }

        using (var refused = await SendAsync("/narrow/x", token))
        {
            await Problem.AssertAsync(refused, HttpStatusCode.Unauthorized, "invalid_token");
            Assert.Contains("audience", refused.Headers.WwwAuthenticate.Single().ToString(), StringComparison.Ordinal);
        }

        using (var stillAccepted = await SendAsync("/jwt/x", token))
        {
            Assert.Equal(HttpStatusCode.OK, stillAccepted.StatusCode);
        }

        Assert.Equal(2, _echo.RequestCount);
    }

    [Fact]
    public async Task When_the_IdP_is_down_the_cached_keys_keep_working()
    {
        using (var warm = await SendAsync("/fast/x", _ec.Mint(_idp.Issuer, Audience, UserClaims)))
        {
            Assert.Equal(HttpStatusCode.OK, warm.StatusCode);
        }

        _idp.Down = true;
        for (var i = 0; i < 4; i++)
        {
            // Each round is past KeyRefreshSeconds: a refresh is attempted, fails, and the keys held stay.
            await Task.Delay(600);
            using var response = await SendAsync("/fast/x", _ec.Mint(_idp.Issuer, Audience, UserClaims));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
    }

    [Fact]
    public async Task An_IdP_that_was_never_reached_gives_503_not_401_and_not_a_pass()
    {
        using var response = await SendAsync("/dead/x", _rsa.Mint(_idp.Issuer, Audience, UserClaims));

        await Problem.AssertAsync(response, HttpStatusCode.ServiceUnavailable, "auth_unavailable");
        Assert.Equal(0, _echo.RequestCount);
    }

    [Fact]
    public async Task OIDC_discovery_finds_the_keys()
    {
        using var response = await SendAsync("/disco/x", _rsa.Mint(_idp.Issuer, Audience, UserClaims));

        var echo = await Echo.ReadAsync(response);
        Assert.Equal("disco", echo.Header("X-Gateway-Auth-Policy").Single());
        Assert.True(_idp.DiscoveryFetches >= 1);
    }

    [Fact]
    public async Task Missing_roles_scopes_or_claims_get_403_and_present_ones_pass()
    {
        var claims = UserClaims;
        claims["roles"] = new[] { "reader" };
        using (var response = await SendAsync("/admins/x", _rsa.Mint(_idp.Issuer, Audience, claims)))
        {
            await Problem.AssertAsync(response, HttpStatusCode.Forbidden, "forbidden");
            Assert.Contains("insufficient_scope", response.Headers.WwwAuthenticate.Single().ToString(), StringComparison.Ordinal);
        }

        using (var response = await SendAsync("/admins/x", _rsa.Mint(_idp.Issuer, Audience, UserClaims)))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        claims = UserClaims;
        claims["scope"] = "orders.read";
        using (var response = await SendAsync("/writers/x", _rsa.Mint(_idp.Issuer, Audience, claims)))
        {
            await Problem.AssertAsync(response, HttpStatusCode.Forbidden, "forbidden");
            Assert.Contains("scope=\"orders.write\"", response.Headers.WwwAuthenticate.Single().ToString(), StringComparison.Ordinal);
        }

        claims = UserClaims;
        claims["tid"] = "fabrikam";
        using (var response = await SendAsync("/writers/x", _rsa.Mint(_idp.Issuer, Audience, claims)))
        {
            await Problem.AssertAsync(response, HttpStatusCode.Forbidden, "forbidden");
        }

        using (var response = await SendAsync("/writers/x", _rsa.Mint(_idp.Issuer, Audience, UserClaims)))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal(2, _echo.RequestCount);
    }

    [Fact]
    public async Task A_query_token_counts_only_where_the_route_opts_in_and_is_removed_from_the_forwarded_query()
    {
        var token = _rsa.Mint(_idp.Issuer, Audience, UserClaims);
        using (var response = await SendAsync("/jwt/x?access_token=" + token, null))
        {
            await Problem.AssertAsync(response, HttpStatusCode.Unauthorized, "unauthenticated");
        }

        using (var response = await SendAsync("/ws/x?a=1&access_token=" + token + "&b=%20", null))
        {
            var echo = await Echo.ReadAsync(response);
            Assert.Equal("?a=1&b=%20", echo.Query);
            Assert.Equal("user-42", echo.Header("X-User-Id").Single());
        }

        using (var response = await SendAsync("/ws/x?access_token=" + token, token))
        {
            await Problem.AssertAsync(response, HttpStatusCode.BadRequest, "invalid_request");
        }
    }

    [Fact]
    public async Task The_bearer_token_is_forwarded_only_by_a_policy_that_says_so()
    {
        var token = _rsa.Mint(_idp.Issuer, Audience, UserClaims);
        using var forwarded = await SendAsync("/fwd/x", token);
        Assert.Equal("Bearer " + token, (await Echo.ReadAsync(forwarded)).Header("Authorization").Single());

        using var kept = await SendAsync("/jwt/x", token);
        Assert.Empty((await Echo.ReadAsync(kept)).Header("Authorization"));
    }

    [Fact]
    public async Task Claim_values_with_CR_LF_or_commas_are_percent_encoded_never_passed_raw()
    {
        var claims = UserClaims;
        claims["sub"] = "eve\r\nX-User-Id: admin";
        claims["roles"] = new[] { "a,admin", "b c", "é" };
        claims["tid"] = "t\nX-Consumer-Tier: platinum";

        using var response = await SendAsync("/jwt/x", _rsa.Mint(_idp.Issuer, Audience, claims));
        var echo = await Echo.ReadAsync(response);

        Assert.Equal("eve%0D%0AX-User-Id:%20admin", echo.Header("X-User-Id").Single());
        Assert.Equal("a%2Cadmin,b%20c,%C3%A9", echo.Header("X-User-Roles").Single());
        Assert.Equal("t%0AX-Consumer-Tier:%20platinum", echo.Header("X-User-Tenant").Single());
        Assert.Equal("gold", echo.Header("X-Consumer-Tier").Single());
        Assert.Equal(["a,admin", "b c", "é"], FuncGateway.Backend.GatewayHeaderValue.DecodeList(echo.Header("X-User-Roles").Single()));
    }
}
