using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using FuncGateway.Authentication.Basic;
using FuncGateway.Server.Tests.Infrastructure;
using FuncGateway.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace FuncGateway.Server.Tests.Caching;

/// <summary>
/// The response cache through the real server, real Kestrel upstreams and Azurite: hits and misses, per-caller
/// isolation, no poisoning through unkeyed input, what is never stored, conditional requests, coalesced misses,
/// stale entries while the upstream is down, and purges that reach a second gateway instance.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class CachingTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private const string LastModified = "Wed, 01 Jan 2025 00:00:00 GMT";
    private const string Issuer = "https://idp.funcgateway.test/cache";

    private readonly TestSigningKey _signer = TestSigningKey.Rsa("cache-1");

    private TestUpstream _upstream = null!;
    private GatewayHost _gateway = null!;
    private int _served;
    private volatile bool _failing;
    private volatile int _slowMilliseconds;

    public async Task InitializeAsync()
    {
        _upstream = await TestUpstream.StartAsync("cached", app => app.Run(ServeAsync));
        _gateway = await StartGatewayAsync(GatewayHost.NewPrefix());
        await _gateway.UpsertUpstreamAsync("cached", _upstream.BaseAddress);
        await _gateway.UpsertRouteAsync("shared", "/shared/{**rest}", "cached", ("Cache", """{"ttlSeconds":60,"headers":["Accept-Language"],"query":["page"]}"""));
        await _gateway.UpsertRouteAsync("all-query", "/all-query/{**rest}", "cached", ("Cache", """{"ttlSeconds":60}"""));
        await _gateway.UpsertRouteAsync("mine", "/mine/{**rest}", "cached", ("Auth", "people"), ("Cache", """{"ttlSeconds":60,"shared":false}"""));
        await _gateway.UpsertRouteAsync("my-orders", "/my-orders/{**rest}", "cached", ("Auth", "tokens"), ("Cache", """{"ttlSeconds":60,"shared":false}"""));
        await _gateway.UpsertRouteAsync("step-up", "/step-up/{**rest}", "cached", ("Auth", "forwarded"), ("Cache", """{"ttlSeconds":60,"shared":false}"""));
        await _gateway.UpsertRouteAsync("bounded", "/bounded/{**rest}", "cached", ("Cache", """{"ttlSeconds":60,"upstreamMaxAge":true}"""));
        await _gateway.UpsertRouteAsync("templated", "/templated/{**rest}", "cached",
            ("Cache", """{"ttlSeconds":60,"query":["page"]}"""), ("Transforms", """[{"RequestHeader":"X-Page","Set":"{Query:page}"}]"""));
        await _gateway.UpsertRouteAsync("two-keyed", "/two-keyed/{**rest}", "cached", ("Cache", """{"ttlSeconds":60,"headers":["Accept-Language","X-Poison"]}"""));
        await _gateway.UpsertRouteAsync("limited", "/limited/{**rest}", "cached", ("Cache", """{"ttlSeconds":60}"""), ("RateLimit", "plenty"));
        await _gateway.ReloadAsync();
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
        _signer.Dispose();
    }

    private Task<GatewayHost> StartGatewayAsync(string prefix) => GatewayHost.StartAsync(azurite.ConnectionString, new Dictionary<string, string?>
    {
        ["FuncGateway:Auth:Policies:people:Type"] = "Basic",
        ["FuncGateway:Auth:Policies:people:Users:alice"] = PasswordHash.Create("alice-pw", PasswordHash.MinimumIterations).ToString(),
        ["FuncGateway:Auth:Policies:people:Users:bob"] = PasswordHash.Create("bob-pw", PasswordHash.MinimumIterations).ToString(),
        ["FuncGateway:Auth:Policies:tokens:Type"] = "Jwt",
        ["FuncGateway:Auth:Policies:tokens:Issuer"] = Issuer,
        ["FuncGateway:Auth:Policies:tokens:Audiences"] = "api://cache",
        ["FuncGateway:Auth:Policies:tokens:Jwks"] = TestSigningKey.Jwks([_signer]),
        ["FuncGateway:Auth:Policies:forwarded:Type"] = "Jwt",
        ["FuncGateway:Auth:Policies:forwarded:Issuer"] = Issuer,
        ["FuncGateway:Auth:Policies:forwarded:Audiences"] = "api://cache",
        ["FuncGateway:Auth:Policies:forwarded:Jwks"] = TestSigningKey.Jwks([_signer]),
        ["FuncGateway:Auth:Policies:forwarded:ForwardToken"] = "true",
        ["FuncGateway:Auth:Signing:Keys:k1"] = Convert.ToBase64String(new byte[32]),
        ["FuncGateway:Forwarding:PublicHosts"] = "127.0.0.1,localhost,evil.example",
        ["FuncGateway:Cache:MaxEntryBytes"] = "16384",
        ["FuncGateway:RateLimits:Policies:plenty:Limit"] = "1000",
        ["FuncGateway:RateLimits:Policies:plenty:WindowSeconds"] = "3600",
    }, prefix);

    /// <summary>
    /// The upstream: a body naming what it saw (a serial number, the user, poisonable headers, the query), with
    /// response headers chosen by query parameters (cc, cookie, vary, status, tag, delay, size).
    /// </summary>
    private async Task ServeAsync(HttpContext context)
    {
        var serial = Interlocked.Increment(ref _served);
        var q = context.Request.Query;
        if (int.TryParse(q["delay"], out var delay))
        {
            await Task.Delay(delay);
        }

        var response = context.Response;
        response.StatusCode = int.TryParse(q["status"], out var status) ? status : 200;
        if (_slowMilliseconds > 0 && context.Request.Path.StartsWithSegments("/swr"))
        {
            await Task.Delay(_slowMilliseconds);
        }

        if (_failing && context.Request.Path.StartsWithSegments("/errors"))
        {
            response.StatusCode = 500;
            return;
        }

        if (q.ContainsKey("cc"))
        {
            response.Headers.CacheControl = q["cc"].ToString();
        }

        if (q.ContainsKey("cookie"))
        {
            // A path no test requests, so the test client's cookie jar never sends it back (that would be a bypass).
            response.Headers.SetCookie = "session=abc; Path=/elsewhere";
        }

        if (q.ContainsKey("vary"))
        {
            response.Headers.Vary = q["vary"].ToString();
        }

        if (q.ContainsKey("tag"))
        {
            response.Headers["Cache-Tag"] = q["tag"].ToString();
        }

        if (q.ContainsKey("secret"))
        {
            response.Headers["X-Secret"] = q["secret"].ToString();
        }

        if (q.ContainsKey("age"))
        {
            response.Headers.Age = q["age"].ToString();
        }

        response.Headers.ETag = "\"v1\"";
        response.Headers.LastModified = LastModified;
        response.ContentType = "application/json";
        if (int.TryParse(q["size"], out var size))
        {
            await response.WriteAsync(new string('x', size));
            return;
        }

        var h = context.Request.Headers;
        await response.WriteAsJsonAsync(new
        {
            serial,
            user = h["X-User-Id"].ToString(),
            scopes = h["X-User-Scopes"].ToString(),
            roles = h["X-User-Roles"].ToString(),
            forwardedHost = h["X-Forwarded-Host"].ToString(),
            originalUrl = h["X-Original-URL"].ToString(),
            poison = h["X-Poison"].ToString(),
            language = h["Accept-Language"].ToString(),
            query = context.Request.QueryString.Value ?? "",
            page = h["X-Page"].ToString(),
            requestId = h["X-Request-Id"].ToString(),
            contentType = h.ContentType.ToString(),
            body = await new StreamReader(context.Request.Body).ReadToEndAsync(),
            rawTarget = context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestFeature>()?.RawTarget ?? "",
        });
    }

    private static async Task<(HttpResponseMessage Response, JsonElement Body)> GetAsync(GatewayHost gateway, string path, Action<HttpRequestMessage>? configure = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        configure?.Invoke(request);
        var response = await gateway.Client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response, text.StartsWith('{') ? JsonDocument.Parse(text).RootElement.Clone() : default);
    }

    private Task<(HttpResponseMessage Response, JsonElement Body)> GetAsync(string path, Action<HttpRequestMessage>? configure = null) => GetAsync(_gateway, path, configure);

    private static string XCache(HttpResponseMessage response) => response.Headers.TryGetValues("X-Cache", out var values) ? string.Join(",", values) : "(none)";

    private static Action<HttpRequestMessage> As(string user, string password) =>
        request => request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));

    [Fact]
    public async Task A_second_get_is_a_hit_with_the_same_body_an_age_and_no_upstream_request()
    {
        var (first, firstBody) = await GetAsync("/shared/a");
        var count = _upstream.RequestCount;
        var (second, secondBody) = await GetAsync("/shared/a");

        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal("miss", XCache(first));
        Assert.Equal("hit", XCache(second));
        Assert.Equal(firstBody.GetProperty("serial").GetInt32(), secondBody.GetProperty("serial").GetInt32());
        Assert.Equal(count, _upstream.RequestCount);
        Assert.NotNull(second.Headers.Age);
        Assert.Equal("\"v1\"", second.Headers.ETag!.Tag);
        Assert.Equal("application/json", second.Content.Headers.ContentType!.MediaType);

        // HEAD is answered from the entry GET stored, without a body.
        using var head = await _gateway.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/shared/a"));
        Assert.Equal("hit", XCache(head));
        Assert.Equal(count, _upstream.RequestCount);
    }

    [Fact]
    public async Task Two_callers_on_a_per_caller_route_never_see_each_others_entries()
    {
        var (alice1, aliceBody1) = await GetAsync("/mine/profile", As("alice", "alice-pw"));
        var (bob1, bobBody1) = await GetAsync("/mine/profile", As("bob", "bob-pw"));
        var (alice2, aliceBody2) = await GetAsync("/mine/profile", As("alice", "alice-pw"));
        var (bob2, bobBody2) = await GetAsync("/mine/profile", As("bob", "bob-pw"));

        Assert.Equal(("miss", "miss", "hit", "hit"), (XCache(alice1), XCache(bob1), XCache(alice2), XCache(bob2)));
        Assert.Equal("alice", aliceBody1.GetProperty("user").GetString());
        Assert.Equal("alice", aliceBody2.GetProperty("user").GetString());
        Assert.Equal("bob", bobBody1.GetProperty("user").GetString());
        Assert.Equal("bob", bobBody2.GetProperty("user").GetString());

        // A wrong password is refused before the cache is looked at.
        var (wrong, _) = await GetAsync("/mine/profile", As("bob", "alice-pw"));
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
    }

    [Fact]
    public async Task A_per_caller_entry_made_for_wider_scopes_or_roles_never_answers_the_same_user_with_narrower_ones()
    {
        // One user, two tokens: the upstream learns each one's scopes and roles (X-User-Scopes, X-User-Roles) and may
        // decide on them, so what it said to the wide token is not an answer for the narrow one.
        var wide = _signer.Mint(Issuer, "api://cache", new Dictionary<string, object?> { ["sub"] = "carol", ["scope"] = "orders.read profile", ["roles"] = new[] { "admin" } });
        var narrow = _signer.Mint(Issuer, "api://cache", new Dictionary<string, object?> { ["sub"] = "carol", ["scope"] = "profile" });
        Action<HttpRequestMessage> Bearer(string token) => r => r.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);

        var (first, firstBody) = await GetAsync("/my-orders/list", Bearer(wide));
        var (second, secondBody) = await GetAsync("/my-orders/list", Bearer(narrow));
        var (third, _) = await GetAsync("/my-orders/list", Bearer(wide));

        Assert.Equal(("miss", "miss", "hit"), (XCache(first), XCache(second), XCache(third)));
        Assert.Equal("admin", firstBody.GetProperty("roles").GetString());
        Assert.Equal("carol", secondBody.GetProperty("user").GetString());
        Assert.Equal("profile", secondBody.GetProperty("scopes").GetString());
        Assert.Equal("", secondBody.GetProperty("roles").GetString());
    }

    [Fact]
    public async Task On_a_route_whose_policy_forwards_the_token_each_token_of_a_user_has_its_own_entries()
    {
        // The upstream receives the token itself and may read what no identity header says: a step-up token (acr, amr)
        // may be answered with more than a plain one of the same user, and that answer is not the plain token's.
        var stepUp = _signer.Mint(Issuer, "api://cache", new Dictionary<string, object?> { ["sub"] = "dave", ["acr"] = "mfa", ["amr"] = new[] { "pwd", "otp" } });
        var plain = _signer.Mint(Issuer, "api://cache", new Dictionary<string, object?> { ["sub"] = "dave", ["acr"] = "pwd", ["amr"] = new[] { "pwd" } });
        Action<HttpRequestMessage> Bearer(string token) => r => r.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);

        var (first, firstBody) = await GetAsync("/step-up/account", Bearer(stepUp));
        var (second, secondBody) = await GetAsync("/step-up/account", Bearer(plain));
        var (third, thirdBody) = await GetAsync("/step-up/account", Bearer(stepUp));

        Assert.Equal(("miss", "miss", "hit"), (XCache(first), XCache(second), XCache(third)));
        Assert.NotEqual(firstBody.GetProperty("serial").GetInt32(), secondBody.GetProperty("serial").GetInt32());
        Assert.Equal(firstBody.GetProperty("serial").GetInt32(), thirdBody.GetProperty("serial").GetInt32());
        Assert.Equal("dave", secondBody.GetProperty("user").GetString());
    }

    [Fact]
    public async Task A_shared_route_never_stores_or_serves_a_request_that_carries_credentials_or_a_cookie()
    {
        var (withToken, tokenBody) = await GetAsync("/shared/credentials", r => r.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "secret-token"));
        var (withCookie, _) = await GetAsync("/shared/credentials", r => r.Headers.Add("Cookie", "session=1"));
        var (anonymous, anonymousBody) = await GetAsync("/shared/credentials");
        var (again, _) = await GetAsync("/shared/credentials", r => r.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "other-token"));

        Assert.Equal(("bypass", "bypass", "miss", "bypass"), (XCache(withToken), XCache(withCookie), XCache(anonymous), XCache(again)));
        Assert.NotEqual(tokenBody.GetProperty("serial").GetInt32(), anonymousBody.GetProperty("serial").GetInt32());
    }

    [Fact]
    public async Task Unkeyed_headers_and_query_parameters_cannot_poison_what_others_get()
    {
        // The attacker's request comes first and is stored...
        var (attack, attackBody) = await GetAsync("/shared/home?page=1&utm=evil", r =>
        {
            r.Headers.Add("X-Forwarded-Host", "evil.example");
            r.Headers.Add("X-Original-URL", "/admin");
            r.Headers.Add("X-Poison", "<script>");
            r.Headers.Host = "evil.example";
        });
        Assert.Equal("miss", XCache(attack));

        // ...but the upstream never saw the unkeyed input, so what is stored is what anyone would get.
        Assert.Equal("", attackBody.GetProperty("poison").GetString());
        Assert.Equal("", attackBody.GetProperty("originalUrl").GetString());
        Assert.Equal("?page=1", attackBody.GetProperty("query").GetString());

        // The host the upstream learns (the vouched public host) is in the key: another host is another entry.
        Assert.Equal("evil.example", attackBody.GetProperty("forwardedHost").GetString());
        var (victim, victimBody) = await GetAsync("/shared/home?page=1");
        Assert.Equal("miss", XCache(victim));
        Assert.StartsWith("127.0.0.1", victimBody.GetProperty("forwardedHost").GetString());

        var (victim2, victimBody2) = await GetAsync("/shared/home?utm=other&page=1", r => r.Headers.Add("X-Poison", "again"));
        Assert.Equal("hit", XCache(victim2));
        Assert.Equal(victimBody.GetProperty("serial").GetInt32(), victimBody2.GetProperty("serial").GetInt32());
        Assert.Equal("", victimBody2.GetProperty("poison").GetString());
    }

    [Fact]
    public async Task A_template_reading_a_keyed_parameter_cannot_be_fed_through_another_spelling_of_its_name()
    {
        // {Query:page} reads "PAGE" too (names ignore case there), so the key and the upstream must hold it.
        var (attack, attackBody) = await GetAsync("/templated/list?PAGE=evil");
        Assert.Equal("miss", XCache(attack));
        Assert.Equal("evil", attackBody.GetProperty("page").GetString());
        Assert.Equal("?PAGE=evil", attackBody.GetProperty("query").GetString());

        var (victim, victimBody) = await GetAsync("/templated/list");
        Assert.Equal("miss", XCache(victim));
        Assert.Equal("", victimBody.GetProperty("page").GetString());

        var (keyed, keyedBody) = await GetAsync("/templated/list?page=1&utm=x");
        Assert.Equal("?page=1", keyedBody.GetProperty("query").GetString());
        var (again, _) = await GetAsync("/templated/list?utm=y&page=1");
        Assert.Equal(("miss", "hit"), (XCache(keyed), XCache(again)));
    }

    [Theory]
    [InlineData("?a=1&A=evil", "?a=1&a=evil")]
    [InlineData("?q=a+b", "?q=a%20b")]
    [InlineData("?a=1;b=2", "?a=1%3Bb=2")]
    [InlineData("?x", "?x=")]
    [InlineData("?&&", "")]
    [InlineData("?a=2&a=1", "?a=1&a=2")]
    [InlineData("?a=1;b=2&b=3", "?b=3&a=1;b=2")]
    public async Task Queries_an_upstream_may_read_differently_are_different_entries(string first, string second)
    {
        var path = "/all-query/q" + Guid.NewGuid().ToString("N");
        var (one, oneBody) = await GetAsync(path + first);
        var (two, twoBody) = await GetAsync(path + second);

        Assert.Equal(("miss", "miss"), (XCache(one), XCache(two)));
        Assert.NotEqual(oneBody.GetProperty("serial").GetInt32(), twoBody.GetProperty("serial").GetInt32());
        Assert.Equal(second, twoBody.GetProperty("query").GetString());
    }

    [Fact]
    public async Task An_encoded_slash_and_an_encoded_percent_before_2F_are_different_entries()
    {
        var (slash, slashBody) = await GetAsync("/all-query/pkg/@types%2Fcors");
        var (percent, percentBody) = await GetAsync("/all-query/pkg/@types%252Fcors");
        var (slashAgain, _) = await GetAsync("/all-query/pkg/@types%2Fcors");

        Assert.Equal(("miss", "miss", "hit"), (XCache(slash), XCache(percent), XCache(slashAgain)));
        Assert.Equal("/all-query/pkg/@types%2Fcors", slashBody.GetProperty("rawTarget").GetString());
        Assert.Equal("/all-query/pkg/@types%252Fcors", percentBody.GetProperty("rawTarget").GetString());
    }

    [Fact]
    public async Task A_get_with_a_body_is_neither_looked_up_nor_stored()
    {
        using var withBody = new HttpRequestMessage(HttpMethod.Get, "/all-query/search")
        {
            Content = new StringContent("""{"q":"evil"}""", Encoding.UTF8, "text/evil"),
        };
        using var response = await _gateway.Client.SendAsync(withBody);
        var (plain, plainBody) = await GetAsync("/all-query/search");

        Assert.Equal("bypass", XCache(response));
        Assert.Equal("miss", XCache(plain));
        Assert.Equal("", plainBody.GetProperty("body").GetString());
        Assert.Equal("", plainBody.GetProperty("contentType").GetString());
    }

    [Fact]
    public async Task A_hit_carries_its_own_request_id_and_rate_limit_state_and_the_miss_sent_the_request_id_upstream()
    {
        var (miss, missBody) = await GetAsync("/limited/state");
        var (hit, _) = await GetAsync("/limited/state");

        Assert.Equal(("miss", "hit"), (XCache(miss), XCache(hit)));
        Assert.Equal(miss.Headers.GetValues("X-Request-Id").Single(), missBody.GetProperty("requestId").GetString());
        Assert.Single(hit.Headers.GetValues("RateLimit"));
        Assert.Single(hit.Headers.GetValues("RateLimit-Policy"));
        Assert.NotEqual(miss.Headers.GetValues("RateLimit").Single(), hit.Headers.GetValues("RateLimit").Single());
        Assert.NotEqual(miss.Headers.GetValues("X-Request-Id").Single(), hit.Headers.GetValues("X-Request-Id").Single());
    }

    [Fact]
    public async Task A_response_with_no_cache_naming_fields_is_not_stored()
    {
        var query = "?cc=" + Uri.EscapeDataString("no-cache=\"X-Secret\"") + "&secret=abc";
        var (first, _) = await GetAsync("/all-query/nocache-fields" + query);
        var (second, _) = await GetAsync("/all-query/nocache-fields" + query);

        Assert.Equal(("miss", "miss"), (XCache(first), XCache(second)));
    }

    [Fact]
    public async Task Keyed_headers_and_upstream_vary_headers_make_separate_entries()
    {
        var (fr, frBody) = await GetAsync("/shared/lang", r => r.Headers.Add("Accept-Language", "fr"));
        var (en, enBody) = await GetAsync("/shared/lang", r => r.Headers.Add("Accept-Language", "en"));
        var (fr2, fr2Body) = await GetAsync("/shared/lang", r => r.Headers.Add("Accept-Language", "fr"));
        Assert.Equal(("miss", "miss", "hit"), (XCache(fr), XCache(en), XCache(fr2)));
        Assert.Equal("fr", frBody.GetProperty("language").GetString());
        Assert.Equal("en", enBody.GetProperty("language").GetString());
        Assert.Equal("fr", fr2Body.GetProperty("language").GetString());

        // The upstream varies on a header the route does not key on: the values join the key all the same.
        var (a, _) = await GetAsync("/all-query/v?vary=X-Device", r => r.Headers.Add("X-Device", "phone"));
        var (b, _) = await GetAsync("/all-query/v?vary=X-Device", r => r.Headers.Add("X-Device", "desktop"));
        var (c, _) = await GetAsync("/all-query/v?vary=X-Device", r => r.Headers.Add("X-Device", "phone"));
        Assert.Equal(("miss", "miss", "hit"), (XCache(a), XCache(b), XCache(c)));

        // Query parameters: the whole query by default, in any order.
        var (q1, _) = await GetAsync("/all-query/q?a=1&b=2");
        var (q2, _) = await GetAsync("/all-query/q?b=2&a=1");
        var (q3, _) = await GetAsync("/all-query/q?a=1&b=3");
        Assert.Equal(("miss", "hit", "miss"), (XCache(q1), XCache(q2), XCache(q3)));
    }

    [Fact]
    public async Task A_keyed_value_holding_the_keys_separators_cannot_pass_for_other_values()
    {
        // A header value may carry U+001E and U+001F (Kestrel accepts them). The attacker's one keyed value spells the
        // victim's two; the upstream saw the attacker's, so it must not answer the victim.
        var (attack, attackBody) = await GetAsync("/two-keyed/k", r => r.Headers.TryAddWithoutValidation("Accept-Language", "fr\u001eX-Poison=<script>"));
        var (victim, victimBody) = await GetAsync("/two-keyed/k", r =>
        {
            r.Headers.TryAddWithoutValidation("Accept-Language", "fr");
            r.Headers.TryAddWithoutValidation("X-Poison", "<script>\u001eX-Poison=");
        });

        Assert.Equal(("miss", "miss"), (XCache(attack), XCache(victim)));
        Assert.Equal("", attackBody.GetProperty("poison").GetString());
        Assert.Equal("fr", victimBody.GetProperty("language").GetString());

        // The same through the headers the upstream varies on.
        var (varyAttack, _) = await GetAsync("/all-query/vk?vary=X-A,X-B", r => r.Headers.TryAddWithoutValidation("X-A", "1\u001fx-b=2"));
        var (varyVictim, _) = await GetAsync("/all-query/vk?vary=X-A,X-B", r =>
        {
            r.Headers.TryAddWithoutValidation("X-A", "1");
            r.Headers.TryAddWithoutValidation("X-B", "2\u001fx-b=");
        });
        Assert.Equal(("miss", "miss"), (XCache(varyAttack), XCache(varyVictim)));
    }

    [Theory]
    [InlineData("cookie=1")]
    [InlineData("cc=no-store")]
    [InlineData("cc=private")]
    [InlineData("cc=no-cache")]
    [InlineData("vary=*")]
    [InlineData("status=500")]
    [InlineData("status=404")]
    [InlineData("size=20000")]
    [InlineData("cc=max-age%3D0")]
    public async Task Responses_a_shared_cache_must_not_store_are_not_stored(string query)
    {
        var path = "/all-query/never?" + query;
        var route = query.StartsWith("cc=max", StringComparison.Ordinal) ? "/bounded/never?" + query : path;
        var (first, _) = await GetAsync(route);
        var (second, _) = await GetAsync(route);
        Assert.Equal("miss", XCache(first));
        Assert.Equal("miss", XCache(second));

        // The oversize body still reached the client whole.
        if (query.StartsWith("size", StringComparison.Ordinal))
        {
            Assert.Equal(20000, (await second.Content.ReadAsByteArrayAsync()).Length);
        }
    }

    [Fact]
    public async Task Upstream_max_age_bounds_the_ttl_when_the_route_says_so()
    {
        // s-maxage=3 (not 1): the second request must come while the entry is fresh, which a busy machine may not
        // manage within one second.
        var (first, _) = await GetAsync("/bounded/short?cc=s-maxage%3D3%2C%20max-age%3D600");
        var (second, _) = await GetAsync("/bounded/short?cc=s-maxage%3D3%2C%20max-age%3D600");
        Assert.Equal(("miss", "hit"), (XCache(first), XCache(second)));
        await Task.Delay(3200);
        var (third, _) = await GetAsync("/bounded/short?cc=s-maxage%3D3%2C%20max-age%3D600");
        Assert.Equal("miss", XCache(third));
    }

    [Fact]
    public async Task Conditional_requests_get_304_from_a_fresh_entry()
    {
        await GetAsync("/shared/conditional");
        var (etag, _) = await GetAsync("/shared/conditional", r => r.Headers.IfNoneMatch.Add(new EntityTagHeaderValue("\"v1\"")));
        var (weak, _) = await GetAsync("/shared/conditional", r => r.Headers.TryAddWithoutValidation("If-None-Match", "W/\"v0\", W/\"v1\""));
        var (other, _) = await GetAsync("/shared/conditional", r => r.Headers.IfNoneMatch.Add(new EntityTagHeaderValue("\"v2\"")));
        var (since, _) = await GetAsync("/shared/conditional", r => r.Headers.TryAddWithoutValidation("If-Modified-Since", LastModified));
        var (before, _) = await GetAsync("/shared/conditional", r => r.Headers.TryAddWithoutValidation("If-Modified-Since", "Tue, 31 Dec 2024 00:00:00 GMT"));

        Assert.Equal(HttpStatusCode.NotModified, etag.StatusCode);
        Assert.Equal("\"v1\"", etag.Headers.ETag!.Tag);
        Assert.Empty(await etag.Content.ReadAsByteArrayAsync());
        Assert.Equal(HttpStatusCode.NotModified, weak.StatusCode);
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        Assert.Equal(HttpStatusCode.NotModified, since.StatusCode);
        Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        Assert.Equal("hit", XCache(before));
    }

    [Fact]
    public async Task Only_a_stored_2xx_answers_a_matching_conditional_request_with_304()
    {
        // RFC 9110 §13.2.1: preconditions are evaluated only where the response would otherwise be 2xx. A stored
        // redirect is the redirect, whatever validator the client holds.
        await GetAsync("/all-query/conditional?status=301");
        var (moved, _) = await GetAsync("/all-query/conditional?status=301", r => r.Headers.IfNoneMatch.Add(new EntityTagHeaderValue("\"v1\"")));
        var (any, _) = await GetAsync("/all-query/conditional?status=301", r => r.Headers.TryAddWithoutValidation("If-None-Match", "*"));
        var (since, _) = await GetAsync("/all-query/conditional?status=301", r => r.Headers.TryAddWithoutValidation("If-Modified-Since", LastModified));

        Assert.Equal((HttpStatusCode.MovedPermanently, "hit"), (moved.StatusCode, XCache(moved)));
        Assert.Equal(HttpStatusCode.MovedPermanently, any.StatusCode);
        Assert.Equal(HttpStatusCode.MovedPermanently, since.StatusCode);
    }

    [Fact]
    public async Task An_upstream_age_too_large_for_an_int_counts_as_the_largest_age_not_as_none()
    {
        // RFC 9111 §1.2.2: a delta-seconds too large to read is 2^31. Read as 0 it made a response far older than its
        // max-age fresh again, and the hits said Age: 0.
        var (first, _) = await GetAsync("/bounded/ancient?cc=max-age%3D60&age=99999999999");
        var (second, _) = await GetAsync("/bounded/ancient?cc=max-age%3D60&age=99999999999");
        var (plain, _) = await GetAsync("/all-query/ancient?age=99999999999");
        var (plainHit, _) = await GetAsync("/all-query/ancient?age=99999999999");

        Assert.Equal(("miss", "miss"), (XCache(first), XCache(second)));
        Assert.Equal(("miss", "hit"), (XCache(plain), XCache(plainHit)));
        Assert.True(plainHit.Headers.Age >= TimeSpan.FromSeconds(int.MaxValue), $"Age: {plainHit.Headers.Age}");
    }

    [Fact]
    public async Task A_hundred_concurrent_misses_make_one_upstream_request()
    {
        var before = _upstream.RequestCount;
        var responses = await Task.WhenAll(Enumerable.Range(0, 100).Select(_ => GetAsync("/all-query/crowd?delay=500")));

        Assert.Equal(1, _upstream.RequestCount - before);
        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.Response.StatusCode));
        Assert.Single(responses.Select(r => r.Body.GetProperty("serial").GetInt32()).Distinct());
        Assert.Equal(99, responses.Count(r => XCache(r.Response) == "hit"));
    }

    [Fact]
    public async Task A_stale_entry_is_served_marked_stale_while_the_upstream_is_down_and_only_within_the_grace()
    {
        var flaky = await TestUpstream.StartAsync("flaky", app => app.Run(ServeAsync));
        await _gateway.UpsertUpstreamAsync("flaky", flaky.BaseAddress);
        await _gateway.UpsertRouteAsync("flaky", "/flaky/{**rest}", "flaky", ("Cache", """{"ttlSeconds":1,"staleIfErrorSeconds":3}"""), ("Retries", """{"maxRetries":0}"""));
        await _gateway.UpsertRouteAsync("flaky-none", "/flaky-none/{**rest}", "flaky", ("Cache", """{"ttlSeconds":1}"""), ("Retries", """{"maxRetries":0}"""));
        await _gateway.ReloadAsync();
        var (fresh, freshBody) = await GetAsync("/flaky/item");
        var (freshNone, _) = await GetAsync("/flaky-none/item");
        Assert.Equal(("miss", "miss"), (XCache(fresh), XCache(freshNone)));

        await flaky.DisposeAsync();
        await Task.Delay(1200);
        var (stale, staleBody) = await GetAsync("/flaky/item");
        Assert.Equal(HttpStatusCode.OK, stale.StatusCode);
        Assert.Equal("stale", XCache(stale));
        Assert.Equal(freshBody.GetProperty("serial").GetInt32(), staleBody.GetProperty("serial").GetInt32());

        // Without a grace the failure is the answer.
        var (failed, _) = await GetAsync("/flaky-none/item");
        Assert.Equal(HttpStatusCode.BadGateway, failed.StatusCode);

        // Past the grace, too.
        await Task.Delay(3000);
        var (late, _) = await GetAsync("/flaky/item");
        Assert.Equal(HttpStatusCode.BadGateway, late.StatusCode);
    }

    [Fact]
    public async Task A_stale_entry_is_served_when_the_upstream_answers_5xx()
    {
        await _gateway.UpsertRouteAsync("errors", "/errors/{**rest}", "cached", ("Cache", """{"ttlSeconds":1,"staleIfErrorSeconds":30}"""), ("Retries", """{"maxRetries":0}"""));
        await _gateway.ReloadAsync();
        var (fresh, freshBody) = await GetAsync("/errors/x");
        Assert.Equal("miss", XCache(fresh));

        _failing = true;
        await Task.Delay(1200);
        var (stale, staleBody) = await GetAsync("/errors/x");
        Assert.Equal(HttpStatusCode.OK, stale.StatusCode);
        Assert.Equal("stale", XCache(stale));
        Assert.Equal(freshBody.GetProperty("serial").GetInt32(), staleBody.GetProperty("serial").GetInt32());

        // A key with no entry gets the upstream's error as it is.
        var (missing, _) = await GetAsync("/errors/y");
        Assert.Equal(HttpStatusCode.InternalServerError, missing.StatusCode);
    }

    [Fact]
    public async Task While_one_request_refreshes_a_stale_entry_the_others_get_it_at_once_within_the_grace()
    {
        await _gateway.UpsertRouteAsync("swr", "/swr/{**rest}", "cached", ("Cache", """{"ttlSeconds":1,"staleWhileRevalidateSeconds":30}"""));
        await _gateway.ReloadAsync();
        var (first, firstBody) = await GetAsync("/swr/x");
        Assert.Equal("miss", XCache(first));
        await Task.Delay(1200);

        // The refresh is slow; a request that arrives meanwhile does not wait for it.
        // (4 s, so that a busy machine cannot make the stale answer look as if it had waited.) The second request is
        // sent once the refresh is at the upstream, not after a fixed pause: on a busy machine the refresh might not
        // even have reached the gateway yet, and the second request would become the refresh itself.
        _slowMilliseconds = 4000;
        var servedBefore = Volatile.Read(ref _served);
        var refresh = GetAsync("/swr/x");
        await UpstreamHasAsync(servedBefore + 1);
        var (during, duringBody) = await GetAsync("/swr/x");
        Assert.Equal("stale", XCache(during));
        Assert.False(refresh.IsCompleted, "The stale answer came only after the refresh had finished.");
        Assert.Equal(firstBody.GetProperty("serial").GetInt32(), duringBody.GetProperty("serial").GetInt32());

        var (refreshed, refreshedBody) = await refresh;
        Assert.Equal("miss", XCache(refreshed));
        _slowMilliseconds = 0;
        var (after, afterBody) = await GetAsync("/swr/x");
        Assert.Equal("hit", XCache(after));
        Assert.Equal(refreshedBody.GetProperty("serial").GetInt32(), afterBody.GetProperty("serial").GetInt32());
    }

    [Fact]
    public async Task A_hit_takes_no_concurrency_permit()
    {
        await _gateway.UpsertRouteAsync("narrow", "/narrow/{**rest}", "cached", ("Cache", """{"ttlSeconds":60}"""), ("MaxConcurrency", 1));
        await _gateway.ReloadAsync();
        Assert.Equal("miss", XCache((await GetAsync("/narrow/cached")).Response));

        // A slow miss holds the route's one permit; the cached key is still answered. The other requests are sent
        // once the slow one is at the upstream (so holds the permit), and it is slow enough to hold it through them.
        var servedBefore = Volatile.Read(ref _served);
        var slow = GetAsync("/narrow/slow?delay=5000");
        await UpstreamHasAsync(servedBefore + 1);
        var (hit, _) = await GetAsync("/narrow/cached");
        Assert.Equal(HttpStatusCode.OK, hit.StatusCode);
        Assert.Equal("hit", XCache(hit));
        var (other, _) = await GetAsync("/narrow/other");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, other.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await slow).Response.StatusCode);
    }

    [Fact]
    public async Task A_purge_on_one_instance_empties_the_entry_on_another_within_a_refresh_interval()
    {
        await using var second = await StartGatewayAsync(_gateway.TablePrefix);
        await second.ReloadAsync();
        foreach (var gateway in new[] { _gateway, second })
        {
            await GetAsync(gateway, "/all-query/purge-route");
            await GetAsync(gateway, "/all-query/products/1?tag=product-1,products");
            await GetAsync(gateway, "/all-query/products/2?tag=product-2,products");
            await GetAsync(gateway, "/shared/keep");
            Assert.Equal("hit", XCache((await GetAsync(gateway, "/all-query/purge-route")).Response));
        }

        // By tag, through the admin endpoint of the first instance.
        await PurgeAsync(new { tag = "product-1" });

        Assert.Equal("miss", XCache((await GetAsync(_gateway, "/all-query/products/1?tag=product-1,products")).Response));
        await WaitForAsync(async () => XCache((await GetAsync(second, "/all-query/products/1?tag=product-1,products")).Response) == "miss");
        Assert.Equal("hit", XCache((await GetAsync(second, "/all-query/products/2?tag=product-2,products")).Response));

        // By route, then by prefix.
        await PurgeAsync(new { route = "all-query" });
        await WaitForAsync(async () => XCache((await GetAsync(second, "/all-query/purge-route")).Response) == "miss");
        Assert.Equal("hit", XCache((await GetAsync(second, "/shared/keep")).Response));
        await PurgeAsync(new { prefix = "/shared" });
        await WaitForAsync(async () => XCache((await GetAsync(second, "/shared/keep")).Response) == "miss");

        // Bad bodies are refused with problem+json.
        using var bad = new HttpRequestMessage(HttpMethod.Post, "/_gateway/cache/purge") { Content = JsonContent.Create(new { route = "a", tag = "b" }) };
        bad.Headers.Add("X-Admin-Key", GatewayHost.AdminKey);
        using var refused = await _gateway.Client.SendAsync(bad);
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("invalid_purge", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_prefix_purge_drops_the_entries_of_every_spelling_of_the_path_the_route_matches()
    {
        // Route literals match ignoring case, so a client can make an entry under "/ALL-QUERY/...": a purge of the
        // path the operator knows must not leave it serving what was purged.
        await GetAsync("/all-query/purge-case/1");
        await GetAsync("/ALL-QUERY/Purge-Case/1");
        Assert.Equal("hit", XCache((await GetAsync("/ALL-QUERY/Purge-Case/1")).Response));

        await PurgeAsync(new { prefix = "/all-query/purge-case" });

        Assert.Equal("miss", XCache((await GetAsync("/all-query/purge-case/1")).Response));
        Assert.Equal("miss", XCache((await GetAsync("/ALL-QUERY/Purge-Case/1")).Response));
    }

    [Fact]
    public async Task Before_any_purge_the_poller_creates_the_purge_table_so_that_its_reads_stop_failing()
    {
        // No purge was requested: the first read finds no table (404) and creates it; later reads find it empty.
        var tables = new Azure.Data.Tables.TableServiceClient(azurite.ConnectionString);
        var name = FuncGateway.Caching.CachePurgeTable.Name(_gateway.TablePrefix);
        var deadline = DateTimeOffset.UtcNow.AddSeconds(5);
        while (!tables.Query(t => t.Name == name).Any())
        {
            Assert.True(DateTimeOffset.UtcNow < deadline, "The purge poller did not create its table.");
            await Task.Delay(100);
        }

        Assert.Empty(tables.GetTableClient(name).Query<Azure.Data.Tables.TableEntity>());
    }

    /// <summary>Waits until the upstream has begun answering <paramref name="count"/> requests in all.</summary>
    private async Task UpstreamHasAsync(int count)
    {
        var deadline = DateTimeOffset.UtcNow.AddSeconds(30);
        while (Volatile.Read(ref _served) < count)
        {
            Assert.True(DateTimeOffset.UtcNow < deadline, "The request never reached the upstream.");
            await Task.Delay(20);
        }
    }

    private async Task PurgeAsync(object body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/_gateway/cache/purge") { Content = JsonContent.Create(body) };
        request.Headers.Add("X-Admin-Key", GatewayHost.AdminKey);
        using var response = await _gateway.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    /// <summary>
    /// Polls until the purge has reached the other instance: expected within a refresh interval (0.5 s) plus a read,
    /// but the deadline is 15 s, since on a loaded machine a poll of Azurite alone can take seconds.
    /// </summary>
    private static async Task WaitForAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTimeOffset.UtcNow.AddSeconds(15);
        while (!await condition())
        {
            Assert.True(DateTimeOffset.UtcNow < deadline, "The purge did not reach the second instance in time.");
            await Task.Delay(200);
        }
    }

    [Fact]
    public async Task A_cache_property_that_does_not_hold_rejects_its_row_with_the_reason()
    {
        await _gateway.UpsertRouteAsync("bad-cache", "/bad-cache", "cached", ("Cache", """{"ttlSeconds":0,"headers":["Authorization"],"caller":["userId"]}"""));
        await _gateway.ReloadAsync();
        var reasons = (await _gateway.RejectedReasonsAsync())["bad-cache"];
        Assert.Contains("Cache.ttlSeconds must be between 1", reasons, StringComparison.Ordinal);
        Assert.Contains("Cache.headers may not name Authorization", reasons, StringComparison.Ordinal);
        Assert.Contains("needs \"shared\":false", reasons, StringComparison.Ordinal);

        // A transform that reads unkeyed client input would let it into what is stored.
        await _gateway.UpsertRouteAsync("leaky", "/leaky", "cached", ("Cache", """{"ttlSeconds":60,"headers":["X-Keyed"],"query":["page"]}"""),
            ("Transforms", """[{"RequestHeader":"X-Name","Set":"{Header:X-Display-Name}"},{"RequestHeader":"X-Keyed-Copy","Set":"{Header:x-keyed}"},{"RequestHeader":"X-Q","Set":"{Query:q}"}]"""));
        await _gateway.ReloadAsync();
        var leaky = (await _gateway.RejectedReasonsAsync())["leaky"];
        Assert.Contains("header 'X-Display-Name'", leaky, StringComparison.Ordinal);
        Assert.Contains("query parameter 'q'", leaky, StringComparison.Ordinal);
        Assert.DoesNotContain("x-keyed", leaky, StringComparison.Ordinal);
    }
}
