using FuncGateway.Model;
using FuncGateway.Authentication;
using FuncGateway.Authentication.ApiKeys;
using FuncGateway.Authentication.Basic;
using FuncGateway.Configuration;
using FuncGateway.Core.Tests.Configuration;
using FuncGateway.LoadBalancing;
using FuncGateway.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace FuncGateway.Core.Tests.Authentication;

/// <summary>Policies from configuration, route Auth/Authorization, API key cache and password hashes.</summary>
public sealed class AuthConfigurationTests
{
    private static GatewayAuthSettings Read(Dictionary<string, string?> values)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        var settings = new GatewayAuthSettings();
        AuthConfigurationReader.Load(settings, configuration.GetSection(AuthPolicies.SectionName));
        return settings;
    }

    [Fact]
    public void Every_configuration_error_is_reported_at_once_with_its_key()
    {
        var settings = Read(new()
        {
            ["FuncGateway:Auth:Policies:corp:Type"] = "Jwt",
            ["FuncGateway:Auth:Policies:corp:Audience"] = "api://x",
            ["FuncGateway:Auth:Policies:corp:Algorithms"] = "none,RS256",
            ["FuncGateway:Auth:Policies:corp:JwksUri"] = "http://idp/jwks",
            ["FuncGateway:Auth:Policies:corp:TokenCacheSeconds"] = "-1",
            ["FuncGateway:Auth:Policies:corp:TokenCacheSize"] = "0",
            ["FuncGateway:Auth:Policies:hs:Type"] = "Jwt",
            ["FuncGateway:Auth:Policies:hs:Issuer"] = "i",
            ["FuncGateway:Auth:Policies:hs:Audiences"] = "a",
            ["FuncGateway:Auth:Policies:hs:Algorithms"] = "HS256",
            ["FuncGateway:Auth:Policies:hs:SymmetricKeys:k1"] = Convert.ToBase64String(new byte[16]),
            ["FuncGateway:Auth:Policies:anonymous:Type"] = "ApiKey",
            ["FuncGateway:Auth:Policies:odd:Type"] = "Kerberos",
            ["FuncGateway:Auth:Policies:legacy:Type"] = "Basic",
            ["FuncGateway:Auth:Policies:legacy:Users:bob"] = "plaintext",
            ["FuncGateway:Auth:Signing:Keys:a"] = Convert.ToBase64String(new byte[32]),
            ["FuncGateway:Auth:Signing:Keys:b"] = Convert.ToBase64String(new byte[32]),
        });

        var errors = string.Join("\n", settings.Errors);
        Assert.Contains("FuncGateway:Auth:Policies:corp:Issuer is required", errors, StringComparison.Ordinal);
        Assert.Contains("FuncGateway:Auth:Policies:corp:Audience is not a known setting", errors, StringComparison.Ordinal);
        Assert.Contains("FuncGateway:Auth:Policies:corp:Audiences is required", errors, StringComparison.Ordinal);
        Assert.Contains("FuncGateway:Auth:Policies:corp:Algorithms: 'none' is not supported", errors, StringComparison.Ordinal);
        Assert.Contains("FuncGateway:Auth:Policies:corp:JwksUri must use https", errors, StringComparison.Ordinal);
        Assert.Contains("FuncGateway:Auth:Policies:corp:TokenCacheSeconds must be a number in [0, 86400]", errors, StringComparison.Ordinal);
        Assert.Contains("FuncGateway:Auth:Policies:corp:TokenCacheSize must be a number in [1, 1000000]", errors, StringComparison.Ordinal);
        Assert.Contains("FuncGateway:Auth:Policies:hs:SymmetricKeys:k1 must be base64 of at least 32 bytes", errors, StringComparison.Ordinal);
        Assert.Contains("'anonymous' is reserved", errors, StringComparison.Ordinal);
        Assert.Contains("FuncGateway:Auth:Policies:odd:Type must be Jwt, ApiKey or Basic", errors, StringComparison.Ordinal);
        Assert.Contains("FuncGateway:Auth:Policies:legacy:Users:bob is not a password hash", errors, StringComparison.Ordinal);
        Assert.Contains("FuncGateway:Auth:Signing:ActiveKeyId is required", errors, StringComparison.Ordinal);
        Assert.DoesNotContain("plaintext", errors, StringComparison.Ordinal);
        Assert.True(settings.Errors.Count >= 10);
    }

    [Fact]
    public void A_valid_configuration_has_no_errors_and_the_documented_defaults()
    {
        var settings = Read(new()
        {
            ["FuncGateway:Auth:Policies:Corp:Type"] = "jwt",
            ["FuncGateway:Auth:Policies:Corp:Issuer"] = "https://login.example.com/",
            ["FuncGateway:Auth:Policies:Corp:Audiences"] = "api://orders, api://billing",
            ["FuncGateway:Auth:Policies:Corp:MetadataAddress"] = "https://login.example.com/.well-known/openid-configuration",
            ["FuncGateway:Auth:Policies:keys:Type"] = "ApiKey",
        });

        Assert.Empty(settings.Errors);
        var jwt = Assert.IsType<JwtPolicySettings>(settings.Policies["corp"]);
        Assert.Equal(["api://orders", "api://billing"], jwt.Audiences);
        Assert.Equal(["RS256"], jwt.Algorithms);
        Assert.Equal(TimeSpan.FromSeconds(60), jwt.ClockSkew);
        Assert.Equal(TimeSpan.FromSeconds(300), jwt.KeyRefreshInterval);
        Assert.Equal(TimeSpan.FromSeconds(30), jwt.UnknownKeyRefreshInterval);
        Assert.False(jwt.ForwardToken);
        Assert.Empty(jwt.RequiredTypes);
        Assert.Null(jwt.MaxTokenLifetime);
        Assert.Equal(TimeSpan.FromSeconds(300), jwt.TokenCacheDuration);
        Assert.Equal(10_000, jwt.TokenCacheSize);
        Assert.Equal("X-API-Key", Assert.IsType<ApiKeyPolicySettings>(settings.Policies["keys"]).Header);
        Assert.False(settings.Signing.Enabled);
        Assert.Equal(TimeSpan.FromSeconds(30), settings.ApiKeys.CacheDuration);
    }

    [Theory]
    [InlineData("demo-keys", "demo_keys")]
    [InlineData("corp.sso", "corp_sso")]
    [InlineData("a__b", "a_b")]
    public void A_policy_name_that_cannot_be_an_app_setting_name_stops_the_host_and_says_what_to_rename_it_to(string name, string suggestion)
    {
        var settings = Read(new() { [$"FuncGateway:Auth:Policies:{name}:Type"] = "ApiKey" });

        var error = Assert.Single(settings.Errors);
        Assert.Equal(
            $"FuncGateway:Auth:Policies:{name}: '{name}' is not a valid policy name: use 1-64 letters and digits, with single '_' between them " +
            "(no '-' or '.': a name is part of an app setting name, where Azure and shells accept neither). " +
            $"Rename it, e.g. to '{suggestion}', here and wherever it is named (routes' properties, keys' tiers).",
            error);
        Assert.Empty(settings.Policies);
    }

    [Fact]
    public void A_claim_header_may_be_written_with_underscores_for_hyphens_as_app_settings_need()
    {
        var settings = Read(new()
        {
            ["FuncGateway:Auth:Policies:entra:Type"] = "Jwt",
            ["FuncGateway:Auth:Policies:entra:Issuer"] = "https://login.example.com/",
            ["FuncGateway:Auth:Policies:entra:Audiences"] = "api://orders",
            ["FuncGateway:Auth:Policies:entra:JwksUri"] = "https://login.example.com/keys",
            ["FuncGateway:Auth:Policies:entra:ClaimHeaders:X_User_Tenant"] = "tid",
            ["FuncGateway:Auth:Policies:entra:ClaimHeaders:X-Consumer-Region"] = "region",
        });

        Assert.Empty(settings.Errors);
        var jwt = Assert.IsType<JwtPolicySettings>(settings.Policies["entra"]);
        Assert.Equal(2, jwt.ClaimHeaders.Count);
        Assert.Contains(new KeyValuePair<string, string>("X-User-Tenant", "tid"), jwt.ClaimHeaders);
        Assert.Contains(new KeyValuePair<string, string>("X-Consumer-Region", "region"), jwt.ClaimHeaders);
    }

    [Theory]
    [InlineData("X-User-Id")]
    [InlineData("X-UserId")]
    [InlineData("X-User--ID")]
    [InlineData("X-Consumer-KeyId")]
    public void A_claim_header_may_not_be_a_standard_identity_header_or_a_look_alike_of_one(string header)
    {
        // A backend that drops separators would read X-UserId: <any claim> as X-User-Id.
        var settings = Read(new()
        {
            ["FuncGateway:Auth:Policies:entra:Type"] = "Jwt",
            ["FuncGateway:Auth:Policies:entra:Issuer"] = "https://login.example.com/",
            ["FuncGateway:Auth:Policies:entra:Audiences"] = "api://orders",
            ["FuncGateway:Auth:Policies:entra:JwksUri"] = "https://login.example.com/keys",
            [$"FuncGateway:Auth:Policies:entra:ClaimHeaders:{header}"] = "nickname",
        });

        Assert.Contains($"FuncGateway:Auth:Policies:entra:ClaimHeaders:{header}: a mapped header must be named X-User-* or X-Consumer-* and not be one the gateway already sets",
            string.Join("\n", settings.Errors), StringComparison.Ordinal);
    }

    [Fact]
    public void An_unresolved_key_vault_reference_is_named_as_such_and_never_quoted()
    {
        const string reference = "@Microsoft.KeyVault(SecretUri=https://kv.vault.azure.net/secrets/FuncGateway--Auth--Signing--Keys--k1)";
        var settings = Read(new()
        {
            ["FuncGateway:Auth:Signing:Keys:k1"] = reference,
            ["FuncGateway:Auth:Policies:hs:Type"] = "Jwt",
            ["FuncGateway:Auth:Policies:hs:Issuer"] = "i",
            ["FuncGateway:Auth:Policies:hs:Audiences"] = "a",
            ["FuncGateway:Auth:Policies:hs:SymmetricKeys:k1"] = reference,
            ["FuncGateway:Auth:Policies:legacy:Type"] = "Basic",
            ["FuncGateway:Auth:Policies:legacy:Users:demo"] = reference,
        });

        var errors = string.Join("\n", settings.Errors);
        foreach (var key in new[] { "FuncGateway:Auth:Signing:Keys:k1", "FuncGateway:Auth:Policies:hs:SymmetricKeys:k1", "FuncGateway:Auth:Policies:legacy:Users:demo" })
        {
            Assert.Contains($"{key} is still an unresolved Key Vault reference", errors, StringComparison.Ordinal);
        }

        Assert.DoesNotContain("vault.azure.net", errors, StringComparison.Ordinal);
    }

    [Fact]
    public void RequireTyp_and_MaxTokenLifetimeSeconds_are_read_normalised_and_checked()
    {
        using var key = TestSigningKey.Rsa("k1");
        var jwks = TestSigningKey.Jwks([key]);
        Dictionary<string, string?> Jwt(string name, string typ, string lifetime) => new()
        {
            [$"FuncGateway:Auth:Policies:{name}:Type"] = "Jwt",
            [$"FuncGateway:Auth:Policies:{name}:Issuer"] = "https://login.example.com/",
            [$"FuncGateway:Auth:Policies:{name}:Audiences"] = "api://orders",
            [$"FuncGateway:Auth:Policies:{name}:Jwks"] = jwks,
            [$"FuncGateway:Auth:Policies:{name}:RequireTyp"] = typ,
            [$"FuncGateway:Auth:Policies:{name}:MaxTokenLifetimeSeconds"] = lifetime,
        };

        var good = Read(Jwt("at", "at+jwt, Application/AT+JWT, application/dpop+jwt", "3600"));
        Assert.Empty(good.Errors);
        var jwt = Assert.IsType<JwtPolicySettings>(good.Policies["at"]);
        Assert.Equal(["application/at+jwt", "application/dpop+jwt"], jwt.RequiredTypes);
        Assert.Equal(TimeSpan.FromHours(1), jwt.MaxTokenLifetime);

        var bad = Read(new[] { Jwt("a", "at+jwt/x/y", "0"), Jwt("b", "at jwt;", "31536001"), Jwt("c", "/at+jwt", "soon") }.SelectMany(d => d).ToDictionary());
        var errors = string.Join("\n", bad.Errors);
        Assert.Contains("FuncGateway:Auth:Policies:a:RequireTyp: 'at+jwt/x/y' is not a media type", errors, StringComparison.Ordinal);
        Assert.Contains("FuncGateway:Auth:Policies:b:RequireTyp: 'jwt;' is not a media type", errors, StringComparison.Ordinal);
        Assert.Contains("FuncGateway:Auth:Policies:c:RequireTyp: '/at+jwt' is not a media type", errors, StringComparison.Ordinal);
        foreach (var name in "abc")
        {
            Assert.Contains($"FuncGateway:Auth:Policies:{name}:MaxTokenLifetimeSeconds must be a number in [1, 31536000]", errors, StringComparison.Ordinal);
        }
    }

    private static GatewaySnapshot Build(params RegistryRow[] routes)
    {
        var policies = new AuthPolicyRegistry([new ApiKeyPolicy(new ApiKeyPolicySettings("keys"), null!, TimeProvider.System)]);
        var builder = new SnapshotBuilder(RegistryFormat.Serializer, new LoadBalancingPolicyRegistry([new RoundRobinPolicy()]), TimeSpan.FromSeconds(100), [new RouteAuthCompiler(policies)], poolCompilers: TestCompilers.Pools(new InstanceStateRegistry()));
        return builder.Build(new RegistryContent([], routes), 1, TimeProvider.System.GetUtcNow());
    }

    [Fact]
    public void A_route_needs_Auth_and_every_name_must_be_a_configured_policy()
    {
        var snapshot = Build(
            RegistryRows.Route("missing", "/a", "http://x", ("Auth", null)),
            RegistryRows.Route("blank", "/b", "http://x", ("Auth", " ")),
            RegistryRows.Route("unknown", "/c", "http://x", ("Auth", "keys,corp")),
            RegistryRows.Route("mixed", "/d", "http://x", ("Auth", "anonymous,keys")),
            RegistryRows.Route("twice", "/e", "http://x", ("Auth", """["keys","KEYS"]""")),
            RegistryRows.Route("authz-anon", "/f", "http://x", ("Authorization", """{"roles":["a"]}""")),
            RegistryRows.Route("bad-authz", "/g", "http://x", ("Auth", "keys"), ("Authorization", """{"role":["a"]}""")),
            RegistryRows.Route("token-query", "/h", "http://x", ("Auth", "keys"), ("TokenQueryParameter", "access_token")),
            RegistryRows.Route("ok", "/i", "http://x", ("Auth", "Keys"), ("Authorization", """{"scopes":["s"],"claims":{"tid":["t"]}}"""), ("ApiKeyQueryParameter", "api_key")),
            RegistryRows.Route("open", "/j", "http://x", ("Auth", "Anonymous")));

        string Reasons(string id) => string.Join(" | ", snapshot.Rejected.Single(r => r.RowKey == id).Errors);
        Assert.Equal("Auth is required: name a policy or 'anonymous'.", Reasons("missing"));
        Assert.Equal("Auth is required: name a policy or 'anonymous'.", Reasons("blank"));
        Assert.Equal("Auth names unknown policy 'corp'. Configured: keys.", Reasons("unknown"));
        Assert.Contains("'anonymous' cannot be combined", Reasons("mixed"), StringComparison.Ordinal);
        Assert.Contains("listed twice", Reasons("twice"), StringComparison.Ordinal);
        Assert.Contains("Authorization needs an authenticated route", Reasons("authz-anon"), StringComparison.Ordinal);
        Assert.Contains("Authorization is not valid JSON", Reasons("bad-authz"), StringComparison.Ordinal);
        Assert.Contains("TokenQueryParameter needs a Jwt policy", Reasons("token-query"), StringComparison.Ordinal);
        Assert.Equal(["ok", "open"], snapshot.Routes.Select(r => r.Definition.Id));
        Assert.True(snapshot.Routes[1].GetFeature<RouteAuth>()!.IsAnonymous);
        Assert.Equal("""{"scopes":["s"],"claims":{"tid":["t"]}}""", RegistryFormat.ToRow(snapshot.Routes[0].Definition).Properties["Authorization"]);
    }

    [Fact]
    public async Task The_API_key_cache_bounds_staleness_caches_misses_and_survives_an_outage()
    {
        var clock = new FakeTimeProvider();
        var store = new FakeStore();
        using var cache = new ApiKeyCache(store, new ApiKeyStoreSettings
        {
            CacheDuration = TimeSpan.FromSeconds(30),
            NegativeCacheDuration = TimeSpan.FromSeconds(5),
            StaleIfError = TimeSpan.FromSeconds(60),
        }, clock, NullLogger<ApiKeyCache>.Instance);
        store.Records["h1"] = new ApiKeyRecord("h1", "k-1", "acme", null, null, [], true, null, null);

        Assert.Equal(ApiKeyLookupStatus.Found, (await cache.LookupAsync("h1", default)).Status);
        store.Records["h1"] = store.Records["h1"] with { Enabled = false };
        clock.Advance(TimeSpan.FromSeconds(29));
        Assert.True((await cache.LookupAsync("h1", default)).Record!.Enabled);
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.False((await cache.LookupAsync("h1", default)).Record!.Enabled);
        Assert.Equal(2, store.Reads);

        for (var i = 0; i < 50; i++)
        {
            Assert.Equal(ApiKeyLookupStatus.NotFound, (await cache.LookupAsync("nobody", default)).Status);
        }

        Assert.Equal(3, store.Reads);
        clock.Advance(TimeSpan.FromSeconds(5));
        await cache.LookupAsync("nobody", default);
        Assert.Equal(4, store.Reads);

        store.Down = true;
        clock.Advance(TimeSpan.FromSeconds(31));
        Assert.Equal(ApiKeyLookupStatus.Found, (await cache.LookupAsync("h1", default)).Status);
        Assert.Equal(ApiKeyLookupStatus.Unavailable, (await cache.LookupAsync("h2", default)).Status);
        clock.Advance(TimeSpan.FromSeconds(60));
        Assert.Equal(ApiKeyLookupStatus.Unavailable, (await cache.LookupAsync("h1", default)).Status);
    }

    [Fact]
    public void Password_hashes_round_trip_verify_and_refuse_weak_or_malformed_forms()
    {
        var hash = PasswordHash.Create("pässword", PasswordHash.MinimumIterations);
        Assert.True(PasswordHash.TryParse(hash.ToString(), out var parsed, out _));
        Assert.True(parsed!.Verify("pässword"));
        Assert.False(parsed.Verify("password"));
        Assert.NotEqual(hash.ToString(), PasswordHash.Create("pässword", PasswordHash.MinimumIterations).ToString());

        Assert.False(PasswordHash.TryParse("pbkdf2-sha256:1000:" + Convert.ToBase64String(new byte[16]) + ":" + Convert.ToBase64String(new byte[32]), out _, out var weak));
        Assert.Contains("fewer than 100000", weak, StringComparison.Ordinal);
        Assert.False(PasswordHash.TryParse("md5:abc", out _, out _));
        Assert.False(PasswordHash.TryParse("pbkdf2-sha256:600000:short:short", out _, out _));
    }

    [Fact]
    public void Credential_query_parameters_are_removed_and_everything_else_kept_byte_for_byte()
    {
        var result = FuncGateway.Authentication.UpstreamIdentityTransform.WithoutParameters(new Microsoft.AspNetCore.Http.QueryString("?a=%20x&access_token=t&b=1&API_KEY=k&c"), "access_token", "api_key");
        Assert.Equal("?a=%20x&b=1&c", result.Value);
        Assert.False(FuncGateway.Authentication.UpstreamIdentityTransform.WithoutParameters(new Microsoft.AspNetCore.Http.QueryString("?access_token=t"), "access_token", null).HasValue);
    }

    private sealed class FakeStore : IApiKeyStore
    {
        public Dictionary<string, ApiKeyRecord> Records { get; } = [];

        public bool Down { get; set; }

        public int Reads { get; private set; }

        public Task<ApiKeyRecord?> FindAsync(string hash, CancellationToken cancellationToken)
        {
            Reads++;
            return Down
                ? Task.FromException<ApiKeyRecord?>(new ApiKeyStoreException("down"))
                : Task.FromResult(Records.GetValueOrDefault(hash));
        }
    }
}
