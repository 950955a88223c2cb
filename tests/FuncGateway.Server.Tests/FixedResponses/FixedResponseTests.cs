using System.Net;
using FuncGateway.Authentication.Basic;
using FuncGateway.Server.Tests.Infrastructure;
using FuncGateway.Testing;

namespace FuncGateway.Server.Tests.FixedResponses;

/// <summary>Routes that answer by themselves (<c>FixedResponse</c>) behind the same policies as forwarded routes, against real Azurite.</summary>
[Collection("Azurite")]
public sealed class FixedResponseTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private const string Origin = "https://app.example.com";

    private GatewayHost _gateway = null!;

    public async Task InitializeAsync() => _gateway = await GatewayHost.StartAsync(azurite.ConnectionString, new Dictionary<string, string?>
    {
        ["FuncGateway:Auth:Policies:ops:Type"] = "Basic",
        ["FuncGateway:Auth:Policies:ops:Users:alice"] = PasswordHash.Create("correct horse", PasswordHash.MinimumIterations).ToString(),
        ["FuncGateway:RateLimits:Policies:two:Limit"] = "2",
        ["FuncGateway:RateLimits:Policies:two:WindowSeconds"] = "3600",
        ["FuncGateway:RateLimits:Policies:two:Mode"] = "Strict",
        ["FuncGateway:Cors:Policies:web:AllowedOrigins"] = Origin,
    });

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    [Fact]
    public async Task A_fixed_response_is_served_with_its_status_headers_and_body_and_HEAD_gets_no_body()
    {
        await _gateway.UpsertRouteAsync("status", "/status", null,
            ("FixedResponse", """{"status":200,"headers":{"Content-Type":"application/json","Cache-Control":"max-age=60"},"body":"{\"status\":\"ok\"}"}"""));
        await _gateway.UpsertRouteAsync("gone", "/old/{**rest}", null, ("FixedResponse", """{"status":410,"body":"This API moved to /v2."}"""));
        await _gateway.UpsertRouteAsync("pixel", "/pixel.gif", null,
            ("FixedResponse", """{"status":200,"headers":{"Content-Type":"image/gif"},"bodyBase64":"R0lGODlhAQABAAAAACw="}"""));
        await _gateway.ReloadAsync();

        using var ok = await _gateway.Client.GetAsync("/status");
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal("application/json", ok.Content.Headers.ContentType?.ToString());
        Assert.Equal("max-age=60", ok.Headers.CacheControl?.ToString());
        Assert.Equal("""{"status":"ok"}""", await ok.Content.ReadAsStringAsync());

        using var head = await _gateway.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/status"));
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(15, head.Content.Headers.ContentLength);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());

        using var gone = await _gateway.Client.GetAsync("/old/orders/7");
        Assert.Equal(HttpStatusCode.Gone, gone.StatusCode);
        Assert.Equal("text/plain; charset=utf-8", gone.Content.Headers.ContentType?.ToString());
        Assert.Equal("This API moved to /v2.", await gone.Content.ReadAsStringAsync());

        using var pixel = await _gateway.Client.GetAsync("/pixel.gif");
        Assert.Equal(Convert.FromBase64String("R0lGODlhAQABAAAAACw="), await pixel.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task A_fixed_204_or_304_is_served_without_a_body_or_a_Content_Length_to_GET_and_HEAD()
    {
        // RFC 9110 §8.6: a 204 has no Content-Length (Kestrel refuses to send one, and the client would get a bare 500);
        // a 304's would describe the representation it stands for, which a fixed response has none of.
        await _gateway.UpsertRouteAsync("no-content", "/beacon", null, ("FixedResponse", """{"status":204,"headers":{"Cache-Control":"no-store"}}"""));
        await _gateway.UpsertRouteAsync("not-modified", "/unchanged", null, ("FixedResponse", """{"status":304,"headers":{"ETag":"\"v1\""}}"""));
        await _gateway.ReloadAsync();

        foreach (var method in new[] { HttpMethod.Get, HttpMethod.Head })
        {
            using var noContent = await _gateway.Client.SendAsync(new HttpRequestMessage(method, "/beacon"));
            Assert.Equal(HttpStatusCode.NoContent, noContent.StatusCode);
            Assert.Equal("no-store", noContent.Headers.CacheControl?.ToString());
            Assert.False(noContent.Content.Headers.Contains("Content-Length"), method.Method);
            Assert.Empty(await noContent.Content.ReadAsByteArrayAsync());

            using var notModified = await _gateway.Client.SendAsync(new HttpRequestMessage(method, "/unchanged"));
            Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
            Assert.Equal("\"v1\"", notModified.Headers.ETag?.ToString());
            Assert.False(notModified.Content.Headers.Contains("Content-Length"), method.Method);
            Assert.Empty(await notModified.Content.ReadAsByteArrayAsync());
        }
    }

    [Fact]
    public async Task A_fixed_205_takes_no_body_so_a_205_with_a_body_is_quarantined_instead_of_failing_every_request()
    {
        // RFC 9110 §15.3.6: a 205 has no content, and Kestrel refuses to write one: a 205 with a body used to compile and
        // then answer every request with a bare 500.
        await _gateway.UpsertRouteAsync("reset", "/reset", null, ("FixedResponse", """{"status":205}"""));
        await _gateway.UpsertRouteAsync("reset-body", "/reset-body", null, ("FixedResponse", """{"status":205,"body":"done"}"""));
        await _gateway.ReloadAsync();

        var rejected = await _gateway.RejectedReasonsAsync();
        Assert.True(rejected.TryGetValue("reset-body", out var reasons), "A 205 with a body must be rejected with its reason.");
        Assert.Contains("FixedResponse status 205 cannot have a body.", reasons, StringComparison.Ordinal);
        Assert.False(rejected.ContainsKey("reset"));
        await Problem.AssertAsync(await _gateway.Client.GetAsync("/reset-body"), HttpStatusCode.NotFound, "route_not_found");

        using var reset = await _gateway.Client.GetAsync("/reset");
        Assert.Equal(HttpStatusCode.ResetContent, reset.StatusCode);
        Assert.Equal(0, reset.Content.Headers.ContentLength);
        Assert.Empty(await reset.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Authentication_rate_limits_and_CORS_apply_before_a_fixed_response()
    {
        var body = """{"status":200,"headers":{"Content-Type":"application/json"},"body":"{}"}""";
        await _gateway.UpsertRouteAsync("secret", "/secret", null, ("FixedResponse", body), ("Auth", "ops"));
        await _gateway.UpsertRouteAsync("limited", "/limited", null, ("FixedResponse", body), ("RateLimit", "two"));
        await _gateway.UpsertRouteAsync("browser", "/browser", null, ("FixedResponse", body), ("Cors", "web"));
        await _gateway.ReloadAsync();

        using var unauthenticated = await _gateway.Client.GetAsync("/secret");
        await Problem.AssertAsync(unauthenticated, HttpStatusCode.Unauthorized, "unauthenticated");
        Assert.Equal("Basic", unauthenticated.Headers.WwwAuthenticate.Single().Scheme);

        Assert.Equal(HttpStatusCode.OK, (await _gateway.Client.GetAsync("/limited")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _gateway.Client.GetAsync("/limited")).StatusCode);
        await Problem.AssertAsync(await _gateway.Client.GetAsync("/limited"), HttpStatusCode.TooManyRequests, "rate_limited");

        using var request = new HttpRequestMessage(HttpMethod.Get, "/browser");
        request.Headers.Add("Origin", Origin);
        using var cors = await _gateway.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, cors.StatusCode);
        Assert.Equal(Origin, cors.Headers.GetValues("Access-Control-Allow-Origin").Single());
    }

    [Fact]
    public async Task Invalid_fixed_responses_and_routes_without_an_upstream_are_quarantined_with_their_reasons()
    {
        await _gateway.UpsertUpstreamAsync("pool", new Uri("http://127.0.0.1:9"));
        await _gateway.UpsertRouteAsync("no-upstream", "/a", null);
        await _gateway.UpsertRouteAsync("both", "/b", "pool", ("FixedResponse", """{"status":200}"""));
        await _gateway.UpsertRouteAsync("bad-status", "/c", null, ("FixedResponse", """{"status":99}"""));
        await _gateway.UpsertRouteAsync("two-bodies", "/d", null, ("FixedResponse", """{"status":200,"body":"a","bodyBase64":"YQ=="}"""));
        await _gateway.UpsertRouteAsync("no-content", "/e", null, ("FixedResponse", """{"status":204,"body":"a"}"""));
        await _gateway.UpsertRouteAsync("framing", "/f", null, ("FixedResponse", """{"status":200,"headers":{"Content-Length":"5"}}"""));
        await _gateway.UpsertRouteAsync("rewrite", "/g", null, ("FixedResponse", """{"status":200}"""), ("UpstreamPath", "/x"));
        await _gateway.UpsertRouteAsync("typo", "/h", null, ("FixedResponse", """{"status":200,"bdy":"x"}"""));
        await _gateway.UpsertRouteAsync("fine", "/ok", null, ("FixedResponse", """{"status":202}"""));
        await _gateway.ReloadAsync();

        var rejected = await _gateway.RejectedReasonsAsync();
        Assert.Contains("Upstream is required", rejected["no-upstream"], StringComparison.Ordinal);
        Assert.Contains("FixedResponse and Upstream are exclusive", rejected["both"], StringComparison.Ordinal);
        Assert.Contains("FixedResponse status 99 is outside 200–599.", rejected["bad-status"], StringComparison.Ordinal);
        Assert.Contains("give body or bodyBase64, not both", rejected["two-bodies"], StringComparison.Ordinal);
        Assert.Contains("FixedResponse status 204 cannot have a body.", rejected["no-content"], StringComparison.Ordinal);
        Assert.Contains("FixedResponse header 'Content-Length' is set by the gateway", rejected["framing"], StringComparison.Ordinal);
        Assert.Contains("UpstreamPath needs an Upstream", rejected["rewrite"], StringComparison.Ordinal);
        Assert.Contains("FixedResponse is not valid", rejected["typo"], StringComparison.Ordinal);
        Assert.False(rejected.ContainsKey("fine"));

        await Problem.AssertAsync(await _gateway.Client.GetAsync("/a"), HttpStatusCode.NotFound, "route_not_found");
        Assert.Equal(HttpStatusCode.Accepted, (await _gateway.Client.GetAsync("/ok")).StatusCode);
    }
}
