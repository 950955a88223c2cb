using System.Collections.Concurrent;
using System.Text.Json;
using FuncGateway.Server.Tests.Infrastructure;
using FuncGateway.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Playwright;

namespace FuncGateway.Server.Tests.Cors;

/// <summary>
/// CORS as a browser enforces it: headless Chromium (driven by Playwright) opens a page served by a small Kestrel on
/// 127.0.0.1 (its port makes it an origin of its own) and the page fetch()es the gateway, on another port, with and
/// without credentials, from an allowed and a disallowed origin. What is asserted is what the page's script sees.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class BrowserCorsTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private const string Fetch = """
        async ({ url, init }) => {
          try {
            const response = await fetch(url, init);
            const body = await response.text();
            return JSON.stringify({ ok: true, status: response.status, body,
              total: response.headers.get('X-Total-Count'), secret: response.headers.get('X-Secret') });
          } catch (e) {
            return JSON.stringify({ ok: false, error: String(e) });
          }
        }
        """;

    private readonly ConcurrentQueue<string> _received = new();
    private TestUpstream _api = null!;
    private TestUpstream _allowedPage = null!;
    private TestUpstream _otherPage = null!;

    public async Task InitializeAsync()
    {
        // The API: tells what it received (method, cookie), sends a header pages may read and one they may not, and a
        // CORS policy of its own that would let anyone in.
        _api = await TestUpstream.StartAsync("api", app => app.Run(async context =>
        {
            var cookie = context.Request.Headers.Cookie.ToString();
            _received.Enqueue(context.Request.Method + " " + context.Request.Path);
            context.Response.Headers.AccessControlAllowOrigin = "*";
            context.Response.Headers.AccessControlExposeHeaders = "X-Secret";
            context.Response.Headers["X-Total-Count"] = "42";
            context.Response.Headers["X-Secret"] = "upstream-only";
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(JsonSerializer.Serialize(new { method = context.Request.Method, cookie }));
        }));
        _allowedPage = await StartPageAsync("allowed-page");
        _otherPage = await StartPageAsync("other-page");
    }

    public async Task DisposeAsync()
    {
        await _api.DisposeAsync();
        await _allowedPage.DisposeAsync();
        await _otherPage.DisposeAsync();
    }

    [SkippableFact]
    public async Task A_page_reads_exactly_what_the_gateways_policy_allows_with_and_without_credentials()
    {
        if (Chromium.Path is null)
        {
            Assert.False(Chromium.Required, Chromium.Missing);
            Skip.If(true, Chromium.Missing);
        }

        var allowed = Origin(_allowedPage);
        var other = Origin(_otherPage);
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString, new Dictionary<string, string?>
        {
            ["FuncGateway:Cors:Policies:web:AllowedOrigins"] = allowed,
            ["FuncGateway:Cors:Policies:web:AllowedMethods"] = "GET,PUT",
            ["FuncGateway:Cors:Policies:web:AllowedHeaders"] = "Content-Type",
            ["FuncGateway:Cors:Policies:web:ExposedHeaders"] = "X-Total-Count",
            ["FuncGateway:Cors:Policies:web:AllowCredentials"] = "true",
            ["FuncGateway:Cors:Policies:open:AllowedOrigins"] = "*",
            ["FuncGateway:Auth:Policies:keys:Type"] = "ApiKey",
        });
        await gateway.UpsertRouteAsync("orders", "/api/orders/{id}", _api.BaseAddress.ToString(), ("Methods", "GET,PUT"), ("Cors", "web"));
        await gateway.UpsertRouteAsync("catalog", "/catalog", _api.BaseAddress.ToString(), ("Methods", "GET"), ("Cors", "open"));
        await gateway.UpsertRouteAsync("secure", "/secure", _api.BaseAddress.ToString(), ("Auth", "keys"), ("Cors", "web"));
        await gateway.ReloadAsync();
        var api = gateway.Client.BaseAddress!.ToString().TrimEnd('/');

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = Chromium.Path, Headless = true, Args = ["--no-sandbox"] });
        await using var context = await browser.NewContextAsync();

        // A session cookie for the gateway's host (cookies ignore ports): sent only when the page asks for credentials.
        await context.AddCookiesAsync([new Cookie { Name = "session", Value = "s3cret", Domain = "127.0.0.1", Path = "/" }]);
        var page = await context.NewPageAsync();

        // 1. The allowed origin, a simple GET: readable; the exposed header is, the upstream's own exposure is not.
        await page.GotoAsync(allowed + "/");
        var get = await FetchAsync(page, api + "/api/orders/7", new { method = "GET" });
        Assert.True(get.Ok, get.Error);
        Assert.Equal(200, get.Status);
        Assert.Equal("42", get.Total);
        Assert.Null(get.Secret);
        Assert.Equal("", Received(get).GetProperty("cookie").GetString());

        // 2. The allowed origin, a PUT with JSON and credentials: the browser sends a preflight, the gateway answers it
        // (the route does not list OPTIONS), then the PUT goes through with the cookie, which the upstream receives.
        _received.Clear();
        var put = await FetchAsync(page, api + "/api/orders/7", new
        {
            method = "PUT",
            credentials = "include",
            headers = new Dictionary<string, string> { ["Content-Type"] = "application/json" },
            body = "{\"qty\":2}",
        });
        Assert.True(put.Ok, put.Error);
        Assert.Equal(200, put.Status);
        Assert.Equal("session=s3cret", Received(put).GetProperty("cookie").GetString());
        Assert.Equal(["PUT /api/orders/7"], _received);

        // 3. A gateway-made error on a CORS route: the page can read the problem (401, code unauthenticated).
        var unauthenticated = await FetchAsync(page, api + "/secure", new { method = "GET", credentials = "include" });
        Assert.True(unauthenticated.Ok, unauthenticated.Error);
        Assert.Equal(401, unauthenticated.Status);
        Assert.Equal("unauthenticated", JsonDocument.Parse(unauthenticated.Body!).RootElement.GetProperty("code").GetString());

        // 4. Another origin: a simple GET reaches the API but the page cannot read the answer; a PUT needs a preflight,
        // which grants nothing, so the PUT is never sent.
        await page.GotoAsync(other + "/");
        _received.Clear();
        var foreignGet = await FetchAsync(page, api + "/api/orders/7", new { method = "GET" });
        Assert.False(foreignGet.Ok);
        Assert.Contains("TypeError", foreignGet.Error, StringComparison.Ordinal);
        var foreignPut = await FetchAsync(page, api + "/api/orders/7", new
        {
            method = "PUT",
            credentials = "include",
            headers = new Dictionary<string, string> { ["Content-Type"] = "application/json" },
            body = "{}",
        });
        Assert.False(foreignPut.Ok);
        Assert.Equal(["GET /api/orders/7"], _received);

        // 5. A policy for any origin ('*', no credentials): readable without credentials, refused by the browser with them.
        var open = await FetchAsync(page, api + "/catalog", new { method = "GET" });
        Assert.True(open.Ok, open.Error);
        Assert.Equal(200, open.Status);
        var openWithCookies = await FetchAsync(page, api + "/catalog", new { method = "GET", credentials = "include" });
        Assert.False(openWithCookies.Ok);
        Assert.Contains("TypeError", openWithCookies.Error, StringComparison.Ordinal);
    }

    private static string Origin(TestUpstream server) => server.BaseAddress.GetLeftPart(UriPartial.Authority);

    private static Task<TestUpstream> StartPageAsync(string name) =>
        TestUpstream.StartAsync(name, app => app.Run(static async context =>
        {
            context.Response.ContentType = "text/html; charset=utf-8";
            await context.Response.WriteAsync("<!doctype html><html><head><title>page</title></head><body>page</body></html>");
        }));

    private static async Task<FetchOutcome> FetchAsync(IPage page, string url, object init)
    {
        var json = await page.EvaluateAsync<string>(Fetch, new { url, init });
        return JsonSerializer.Deserialize<FetchOutcome>(json, JsonSerializerOptions.Web)!;
    }

    private static JsonElement Received(FetchOutcome outcome) => JsonDocument.Parse(outcome.Body!).RootElement;

    private sealed record FetchOutcome(bool Ok, int Status, string? Body, string? Total, string? Secret, string? Error);
}
