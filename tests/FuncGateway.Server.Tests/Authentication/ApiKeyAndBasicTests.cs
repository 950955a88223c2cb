using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Azure.Data.Tables;
using FuncGateway.Authentication.ApiKeys;
using FuncGateway.Authentication.Basic;
using FuncGateway.Server.Tests.Infrastructure;
using FuncGateway.Testing;

namespace FuncGateway.Server.Tests.Authentication;

/// <summary>API keys against the real ApiKeys table in Azurite, and Basic against PBKDF2 hashes, end to end.</summary>
[Collection("Azurite")]
public sealed class ApiKeyAndBasicTests(AzuriteFixture azurite) : IAsyncLifetime
{
    // 40 letters and digits: longer than the 32 the identity-namespace check squashes.
    private const string LongKeyHeader = "X-Contoso-Enterprise-Partner-Subscription-Key";

    private static readonly PasswordHash AlicePassword = PasswordHash.Create("correct horse", PasswordHash.MinimumIterations);

    private readonly Diagnostics.TelemetryCapture _capture = new();
    private TestUpstream _echo = null!;
    private GatewayHost _gateway = null!;
    private TableClient _keys = null!;

    public async Task InitializeAsync()
    {
        _echo = await TestUpstream.StartAsync("echo");
        var prefix = GatewayHost.NewPrefix();
        _keys = new TableServiceClient(azurite.ConnectionString).GetTableClient(ApiKeyFormat.TableName(prefix));
        await _keys.CreateIfNotExistsAsync();
        _gateway = await GatewayHost.StartAsync(azurite.ConnectionString, new Dictionary<string, string?>
        {
            ["FuncGateway:Auth:Policies:partners:Type"] = "ApiKey",
            ["FuncGateway:Auth:Policies:long:Type"] = "ApiKey",
            ["FuncGateway:Auth:Policies:long:Header"] = LongKeyHeader,
            ["FuncGateway:Auth:Policies:legacy:Type"] = "Basic",
            ["FuncGateway:Auth:Policies:legacy:Realm"] = "orders",
            ["FuncGateway:Auth:Policies:legacy:Users:alice"] = AlicePassword.ToString(),
            ["FuncGateway:Auth:Policies:legacy:Roles:alice"] = "ops,admin",
            ["FuncGateway:Auth:ApiKeys:CacheSeconds"] = "1",
            ["FuncGateway:Auth:ApiKeys:NegativeCacheSeconds"] = "1",
        }, prefix, logging: _capture.AddTo);
        await _gateway.UpsertUpstreamAsync("echo", _echo.BaseAddress);
        await _gateway.UpsertRouteAsync("keys", "/keys/{**rest}", "echo", ("Auth", "partners"));
        await _gateway.UpsertRouteAsync("long-keys", "/long-keys/{**rest}", "echo", ("Auth", "long"));
        await _gateway.UpsertRouteAsync("keys-q", "/keys-q/{**rest}", "echo", ("Auth", "partners"), ("ApiKeyQueryParameter", "api_key"));
        await _gateway.UpsertRouteAsync("scoped", "/scoped/{**rest}", "echo", ("Auth", "partners"), ("Authorization", """{"scopes":["orders.write"]}"""));
        await _gateway.UpsertRouteAsync("basic", "/basic/{**rest}", "echo", ("Auth", "legacy"));
        await _gateway.UpsertRouteAsync("either", "/either/{**rest}", "echo", ("Auth", "partners,legacy"));
        await _gateway.ReloadAsync();
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _echo.DisposeAsync();
    }

    private async Task<(string Key, ApiKeyRecord Record)> CreateKeyAsync(bool enabled = true, DateTimeOffset? expires = null, params string[] scopes)
    {
        var (key, keyId) = ApiKeyFormat.Generate();
        var record = new ApiKeyRecord(ApiKeyFormat.Hash(key), keyId, "acme", "acme prod", "gold", scopes, enabled, expires, TimeProvider.System.GetUtcNow());
        await _keys.UpsertEntityAsync(ApiKeyFormat.ToEntity(record));
        return (key, record);
    }

    private Task<HttpResponseMessage> SendAsync(string path, Action<HttpRequestMessage> configure)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        configure(request);
        return _gateway.Client.SendAsync(request);
    }

    [Fact]
    public async Task A_valid_key_passes_with_the_consumer_context_and_the_key_never_reaches_the_upstream()
    {
        var (key, record) = await CreateKeyAsync(scopes: ["orders.read"]);

        using var response = await SendAsync("/keys/x", r => r.Headers.Add("X-API-Key", key));
        var echo = await Echo.ReadAsync(response);

        Assert.Equal("acme", echo.Header("X-Consumer-Id").Single());
        Assert.Equal("gold", echo.Header("X-Consumer-Tier").Single());
        Assert.Equal(record.KeyId, echo.Header("X-Consumer-Key-Id").Single());
        Assert.Equal("orders.read", echo.Header("X-User-Scopes").Single());
        Assert.Equal("partners", echo.Header("X-Gateway-Auth-Policy").Single());
        Assert.Empty(echo.Header("X-API-Key"));
        Assert.DoesNotContain(key, echo.Json.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Look_alikes_of_the_key_header_never_reach_the_upstream_whichever_policy_accepted_the_caller()
    {
        // A backend that maps '_' and '-' to one name (nginx, CGI, PHP) would read these as its API key header.
        var (key, _) = await CreateKeyAsync();
        var (other, _) = await CreateKeyAsync();
        string[] lookAlikes = ["X_API_Key", "X-Api_Key", "x_api_key", "XAPIKey", "X.API.Key"];
        void AddLookAlikes(HttpRequestMessage request)
        {
            foreach (var name in lookAlikes)
            {
                request.Headers.TryAddWithoutValidation(name, other);
            }

            request.Headers.Add("X-APIs-Key", "kept");
        }

        using var byKey = await SendAsync("/keys/x", r =>
        {
            r.Headers.Add("X-API-Key", key);
            AddLookAlikes(r);
        });
        using var byPassword = await SendAsync("/either/x", r =>
        {
            r.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("alice:correct horse")));
            AddLookAlikes(r);
        });

        var echoes = new[] { await Echo.ReadAsync(byKey), await Echo.ReadAsync(byPassword) };
        Assert.Equal(["partners", "legacy"], echoes.Select(e => e.Header("X-Gateway-Auth-Policy").Single()));
        foreach (var echo in echoes)
        {
            Assert.DoesNotContain(other, echo.Json.GetRawText(), StringComparison.Ordinal);
            Assert.DoesNotContain(key, echo.Json.GetRawText(), StringComparison.Ordinal);
            foreach (var name in lookAlikes)
            {
                Assert.Empty(echo.Header(name));
            }

            Assert.Equal("kept", echo.Header("X-APIs-Key").Single());
        }
    }

    [Fact]
    public async Task Look_alikes_of_a_key_header_longer_than_32_letters_never_reach_the_upstream()
    {
        var (key, _) = await CreateKeyAsync();
        var (other, _) = await CreateKeyAsync();
        string[] lookAlikes = ["X_Contoso_Enterprise_Partner_Subscription_Key", "x-contoso-enterprise-partner-subscription_key", "XContosoEnterprisePartnerSubscriptionKey"];

        using var response = await SendAsync("/long-keys/x", r =>
        {
            r.Headers.Add(LongKeyHeader, key);
            foreach (var name in lookAlikes)
            {
                r.Headers.TryAddWithoutValidation(name, other);
            }

            r.Headers.Add("X-Contoso-Enterprise-Partner-Subscription-Keys", "kept");
        });

        var echo = await Echo.ReadAsync(response);
        Assert.Equal("long", echo.Header("X-Gateway-Auth-Policy").Single());
        Assert.DoesNotContain(other, echo.Json.GetRawText(), StringComparison.Ordinal);
        Assert.DoesNotContain(key, echo.Json.GetRawText(), StringComparison.Ordinal);
        Assert.Equal("kept", echo.Header("X-Contoso-Enterprise-Partner-Subscription-Keys").Single());
    }

    [Fact]
    public async Task Revoked_expired_unknown_and_malformed_keys_get_401_and_ambiguous_ones_400()
    {
        var (revoked, _) = await CreateKeyAsync(enabled: false);
        var (expired, _) = await CreateKeyAsync(expires: TimeProvider.System.GetUtcNow().AddMinutes(-1));
        var unknown = ApiKeyFormat.Generate().Key;
        var (good, _) = await CreateKeyAsync();

        foreach (var (key, detail) in new[] { (revoked, "revoked"), (expired, "expired"), (unknown, "not valid"), ("hunter2", "not valid") })
        {
            using var response = await SendAsync("/keys/x", r => r.Headers.Add("X-API-Key", key));
            var body = await Problem.AssertAsync(response, HttpStatusCode.Unauthorized, "invalid_api_key");
            Assert.Contains(detail, body.GetProperty("detail").GetString(), StringComparison.Ordinal);
            Assert.DoesNotContain(key, body.GetRawText(), StringComparison.Ordinal);
            Assert.Equal("ApiKey header=\"X-API-Key\"", response.Headers.WwwAuthenticate.Single().ToString());
        }

        // Two header fields (HttpClient would join them into one, so over a raw socket).
        var address = _gateway.Client.BaseAddress!;
        using (var client = new System.Net.Sockets.TcpClient())
        {
            await client.ConnectAsync(address.Host, address.Port);
            await using var stream = client.GetStream();
            await stream.WriteAsync(Encoding.ASCII.GetBytes($"GET /keys/x HTTP/1.1\r\nHost: gw\r\nX-API-Key: {good}\r\nX-API-Key: {good}\r\nConnection: close\r\n\r\n"));
            using var reader = new StreamReader(stream, Encoding.UTF8);
            var text = await reader.ReadToEndAsync();
            Assert.StartsWith("HTTP/1.1 400", text, StringComparison.Ordinal);
            Assert.Contains("\"code\":\"invalid_request\"", text, StringComparison.Ordinal);
        }

        using (var response = await SendAsync("/keys/x", _ => { }))
        {
            await Problem.AssertAsync(response, HttpStatusCode.Unauthorized, "unauthenticated");
        }

        Assert.Equal(0, _echo.RequestCount);
    }

    [Fact]
    public async Task A_key_row_with_a_column_of_the_wrong_type_refuses_its_key_with_401_and_logs_why_without_failing_the_request()
    {
        // az storage entity insert stores ConsumerId=42 as an Int32 and Enabled=yes as a string: such a row is the
        // operator's mistake, not a storage outage, and not a 500 for the client.
        var (numericConsumer, numericRecord) = await CreateKeyAsync();
        var numericEntity = ApiKeyFormat.ToEntity(numericRecord);
        numericEntity["ConsumerId"] = 42;
        await _keys.UpsertEntityAsync(numericEntity, TableUpdateMode.Replace);
        var (wordEnabled, wordRecord) = await CreateKeyAsync();
        var wordEntity = ApiKeyFormat.ToEntity(wordRecord);
        wordEntity["Enabled"] = "yes";
        await _keys.UpsertEntityAsync(wordEntity, TableUpdateMode.Replace);
        var (good, _) = await CreateKeyAsync();

        foreach (var key in new[] { numericConsumer, wordEnabled })
        {
            using var response = await SendAsync("/keys/x", r => r.Headers.Add("X-API-Key", key));
            var body = await Problem.AssertAsync(response, HttpStatusCode.Unauthorized, "invalid_api_key");
            Assert.DoesNotContain(key, body.GetRawText(), StringComparison.Ordinal);
        }

        using (var response = await SendAsync("/keys/x", r => r.Headers.Add("X-API-Key", good)))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var logged = _capture.Logs.Records.Where(static r => r.EventId.Id == 4021).Select(static r => r.Message).ToList();
        Assert.Contains(logged, m => m.Contains(numericRecord.KeyId, StringComparison.Ordinal) && m.Contains("ConsumerId must be a string, not an Int32.", StringComparison.Ordinal));
        Assert.Contains(logged, m => m.Contains(wordRecord.KeyId, StringComparison.Ordinal) && m.Contains("Enabled must be a Boolean (true or false), not \"yes\".", StringComparison.Ordinal));
        Assert.All(logged, m => Assert.DoesNotContain(numericConsumer, m, StringComparison.Ordinal));
        Assert.Equal(1, _echo.RequestCount);
    }

    [Fact]
    public async Task Revoking_a_key_takes_effect_within_the_cache_time()
    {
        var (key, record) = await CreateKeyAsync();
        using (var response = await SendAsync("/keys/x", r => r.Headers.Add("X-API-Key", key)))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        await _keys.UpsertEntityAsync(ApiKeyFormat.ToEntity(record with { Enabled = false }));
        await Task.Delay(1300);

        using var after = await SendAsync("/keys/x", r => r.Headers.Add("X-API-Key", key));
        await Problem.AssertAsync(after, HttpStatusCode.Unauthorized, "invalid_api_key");
    }

    [Fact]
    public async Task A_query_key_counts_only_where_the_route_opts_in_and_is_not_forwarded()
    {
        var (key, _) = await CreateKeyAsync();
        using (var response = await SendAsync("/keys/x?api_key=" + key, _ => { }))
        {
            await Problem.AssertAsync(response, HttpStatusCode.Unauthorized, "unauthenticated");
        }

        using (var response = await SendAsync("/keys-q/x?api_key=" + key + "&page=2", _ => { }))
        {
            var echo = await Echo.ReadAsync(response);
            Assert.Equal("?page=2", echo.Query);
            Assert.Equal("acme", echo.Header("X-Consumer-Id").Single());
        }
    }

    [Fact]
    public async Task A_key_without_the_required_scope_gets_403()
    {
        var (reader, _) = await CreateKeyAsync(scopes: ["orders.read"]);
        var (writer, _) = await CreateKeyAsync(scopes: ["orders.read", "orders.write"]);

        using (var response = await SendAsync("/scoped/x", r => r.Headers.Add("X-API-Key", reader)))
        {
            await Problem.AssertAsync(response, HttpStatusCode.Forbidden, "forbidden");
        }

        using (var response = await SendAsync("/scoped/x", r => r.Headers.Add("X-API-Key", writer)))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
    }

    private static AuthenticationHeaderValue Basic(string userAndPassword) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(userAndPassword)));

    [Fact]
    public async Task Basic_good_bad_unknown_and_malformed_credentials()
    {
        using (var response = await SendAsync("/basic/x", r => r.Headers.Authorization = Basic("alice:correct horse")))
        {
            var echo = await Echo.ReadAsync(response);
            Assert.Equal("alice", echo.Header("X-User-Id").Single());
            Assert.Equal("ops,admin", echo.Header("X-User-Roles").Single());
            Assert.Empty(echo.Header("Authorization"));
        }

        var bad = new[]
        {
            Basic("alice:wrong"),
            Basic("mallory:correct horse"),
            Basic("alice"),
            new AuthenticationHeaderValue("Basic", "%%%not-base64"),
            new AuthenticationHeaderValue("Basic", Convert.ToBase64String([0xff, 0xfe, 0x3a, 0x41])),
        };
        foreach (var header in bad)
        {
            using var response = await SendAsync("/basic/x", r => r.Headers.Authorization = header);
            var body = await Problem.AssertAsync(response, HttpStatusCode.Unauthorized, "invalid_credentials");
            Assert.Equal("Basic realm=\"orders\", charset=\"UTF-8\"", response.Headers.WwwAuthenticate.Single().ToString());
            Assert.DoesNotContain("correct horse", body.GetRawText(), StringComparison.Ordinal);
        }

        Assert.Equal(1, _echo.RequestCount);
    }

    [Fact]
    public async Task A_route_with_two_policies_accepts_either_and_challenges_with_both()
    {
        var (key, _) = await CreateKeyAsync();
        using (var response = await SendAsync("/either/x", r => r.Headers.Add("X-API-Key", key)))
        {
            Assert.Equal("partners", (await Echo.ReadAsync(response)).Header("X-Gateway-Auth-Policy").Single());
        }

        using (var response = await SendAsync("/either/x", r => r.Headers.Authorization = Basic("alice:correct horse")))
        {
            Assert.Equal("legacy", (await Echo.ReadAsync(response)).Header("X-Gateway-Auth-Policy").Single());
        }

        using (var response = await SendAsync("/either/x", _ => { }))
        {
            await Problem.AssertAsync(response, HttpStatusCode.Unauthorized, "unauthenticated");
            Assert.Equal(["ApiKey", "Basic"], response.Headers.WwwAuthenticate.Select(c => c.Scheme));
        }
    }
}
