using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Azure.Data.Tables;
using FuncGateway.Authentication.ApiKeys;
using FuncGateway.Authentication.Basic;
using FuncGateway.Server.Tests.Infrastructure;
using FuncGateway.Testing;

namespace FuncGateway.Server.Tests.RateLimiting;

/// <summary>Limits keyed by who the caller is (API key consumers and their tiers), and the failed-authentication throttle, end to end.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class IdentityRateLimitTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private const string Issuer = "https://idp.funcgateway.test/throttle";

    private readonly TestSigningKey _signer = TestSigningKey.Rsa("rsa-1");
    private TestUpstream _echo = null!;
    private GatewayHost _gateway = null!;
    private TableClient _keys = null!;

    public async Task InitializeAsync()
    {
        await RateLimitTestSupport.AwayFromWindowBoundaryAsync(3600);
        _echo = await TestUpstream.StartAsync("echo");
        var prefix = GatewayHost.NewPrefix();
        _keys = new TableServiceClient(azurite.ConnectionString).GetTableClient(ApiKeyFormat.TableName(prefix));
        await _keys.CreateIfNotExistsAsync();
        _gateway = await GatewayHost.StartAsync(azurite.ConnectionString, new Dictionary<string, string?>
        {
            ["FuncGateway:Auth:Policies:partners:Type"] = "ApiKey",
            ["FuncGateway:Auth:Policies:legacy:Type"] = "Basic",
            ["FuncGateway:Auth:Policies:legacy:Users:admin"] = PasswordHash.Create("s3cret", PasswordHash.MinimumIterations).ToString(),
            ["FuncGateway:Auth:Policies:narrow:Type"] = "Jwt",
            ["FuncGateway:Auth:Policies:narrow:Issuer"] = Issuer,
            ["FuncGateway:Auth:Policies:narrow:Audiences"] = "api://narrow",
            ["FuncGateway:Auth:Policies:narrow:Jwks"] = TestSigningKey.Jwks([_signer]),
            ["FuncGateway:Auth:Policies:wide:Type"] = "Jwt",
            ["FuncGateway:Auth:Policies:wide:Issuer"] = Issuer,
            ["FuncGateway:Auth:Policies:wide:Audiences"] = "api://wide",
            ["FuncGateway:Auth:Policies:wide:Jwks"] = TestSigningKey.Jwks([_signer]),
            ["FuncGateway:RateLimits:Policies:per_consumer:Limit"] = "2",
            ["FuncGateway:RateLimits:Policies:per_consumer:WindowSeconds"] = "3600",
            ["FuncGateway:RateLimits:Policies:per_consumer:PartitionBy"] = "Consumer",
            ["FuncGateway:RateLimits:Policies:per_consumer:Tiers:gold:Limit"] = "4",
            ["FuncGateway:RateLimits:AuthenticationFailures:Limit"] = "3",
            ["FuncGateway:RateLimits:AuthenticationFailures:WindowSeconds"] = "3600",
        }, prefix);
        await _gateway.UpsertRouteAsync("orders", "/orders", _echo.BaseAddress.ToString(), ("Auth", "partners"), ("RateLimit", "per_consumer"));
        await _gateway.UpsertRouteAsync("either", "/either", _echo.BaseAddress.ToString(), ("Auth", "legacy,partners"));
        await _gateway.UpsertRouteAsync("tokens", "/tokens", _echo.BaseAddress.ToString(), ("Auth", "narrow,wide"));
        await _gateway.ReloadAsync();
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _echo.DisposeAsync();
        _signer.Dispose();
    }

    [Fact]
    public async Task Each_consumer_has_its_own_counter_and_a_tier_gets_its_own_limit()
    {
        var gold = await CreateKeyAsync("acme", "gold");
        var goldAgain = await CreateKeyAsync("acme", "gold");
        var free = await CreateKeyAsync("beta", null);

        // Two keys of one consumer share its counter; the tier's limit applies.
        var acme = new List<HttpStatusCode>();
        for (var i = 0; i < 5; i++)
        {
            using var response = await GetAsync(i % 2 == 0 ? gold : goldAgain);
            acme.Add(response.StatusCode);
            Assert.Equal("\"per_consumer\";q=4;w=3600", Assert.Single(response.Headers.GetValues("RateLimit-Policy")));
        }

        var beta = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++)
        {
            using var response = await GetAsync(free);
            beta.Add(response.StatusCode);
        }

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], acme);
        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], beta);
    }

    [Fact]
    public async Task A_client_ip_that_keeps_failing_authentication_must_wait()
    {
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 5; i++)
        {
            using var response = await GetAsync("fgw_not_a_real_key_" + i);
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                await Problem.AssertAsync(response, HttpStatusCode.TooManyRequests, "auth_throttled");
                Assert.True(int.Parse(response.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture) > 0);
            }
        }

        Assert.Equal([HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests], statuses);
        Assert.Equal(0, _echo.RequestCount);
    }

    [Fact]
    public async Task Guesses_sent_all_at_once_get_no_more_attempts_than_the_failure_limit_allows_in_flight()
    {
        // 40 wrong passwords at once: all would pass the check before the first failure is counted. At most the
        // limit (3) may be checked at a time, so no more than 2 × 3 − 1 are ever checked before the client must wait.
        var responses = await Task.WhenAll(Enumerable.Range(0, 40).Select(async i =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/either");
            request.Headers.Authorization = new("Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes("admin:guess-" + i)));
            using var response = await _gateway.Client.SendAsync(request);
            return response.StatusCode;
        }));

        Assert.Equal(40, responses.Count(s => s is HttpStatusCode.Unauthorized or HttpStatusCode.TooManyRequests));
        Assert.InRange(responses.Count(s => s == HttpStatusCode.Unauthorized), 1, 5);
        Assert.Equal(0, _echo.RequestCount);
    }

    [Fact]
    public async Task A_client_with_valid_credentials_is_never_throttled_for_sending_many_requests_at_once()
    {
        var credentials = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes("admin:s3cret"));
        var responses = await Task.WhenAll(Enumerable.Range(0, 30).Select(async _ =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/either");
            request.Headers.Authorization = new("Basic", credentials);
            using var response = await _gateway.Client.SendAsync(request);
            return response.StatusCode;
        }));

        Assert.All(responses, s => Assert.Equal(HttpStatusCode.OK, s));
    }

    [Fact]
    public async Task A_refused_credential_counts_as_a_failure_even_when_another_credential_of_the_request_is_accepted()
    {
        // A partner with its own valid key guesses the admin's Basic password on a route that accepts either: the
        // upstream sees whose identity won (X-User-Id admin or the key's consumer), so each guess must be counted.
        var key = await CreateKeyAsync("acme", null);
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 5; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/either");
            request.Headers.Add("X-API-Key", key);
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("admin:guess" + i)));
            using var response = await _gateway.Client.SendAsync(request);
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                Assert.Equal("acme", (await Echo.ReadAsync(response)).Header("X-Consumer-Id").Single());
            }
        }

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests], statuses);
    }

    [Fact]
    public async Task A_token_refused_by_one_policy_and_accepted_by_the_next_is_never_counted()
    {
        // The second of two policies (another audience, or another issuer) accepts what the first refused: no failure.
        var token = _signer.Mint(Issuer, "api://wide", new Dictionary<string, object?> { ["sub"] = "user-42" });
        for (var i = 0; i < 5; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/tokens");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            using var response = await _gateway.Client.SendAsync(request);
            Assert.Equal("wide", (await Echo.ReadAsync(response)).Header("X-Gateway-Auth-Policy").Single());
        }
    }

    private async Task<string> CreateKeyAsync(string consumer, string? tier)
    {
        var (key, keyId) = ApiKeyFormat.Generate();
        var record = new ApiKeyRecord(ApiKeyFormat.Hash(key), keyId, consumer, consumer, tier, [], true, null, TimeProvider.System.GetUtcNow());
        await _keys.UpsertEntityAsync(ApiKeyFormat.ToEntity(record));
        return key;
    }

    private Task<HttpResponseMessage> GetAsync(string key)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/orders");
        request.Headers.Add("X-API-Key", key);
        return _gateway.Client.SendAsync(request);
    }
}
