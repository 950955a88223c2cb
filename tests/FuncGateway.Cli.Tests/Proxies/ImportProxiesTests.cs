using System.Net;
using FuncGateway.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace FuncGateway.Cli.Tests.Proxies;

/// <summary>
/// <c>fgw import-proxies</c> on a proxies.json that uses every documented Proxies feature (Proxies/proxies.json), and
/// the imported routes serving requests through a real gateway server to a real upstream on 127.0.0.1.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class ImportProxiesTests(AzuriteFixture fixture) : IDisposable
{
    private static readonly string ProxiesFile = Path.Combine(AppContext.BaseDirectory, "Proxies", "proxies.json");

    private readonly CliHarness _cli = new(fixture);

    private string Settings(Uri upstream) => _cli.WriteFile(
        $$"""{ "IsEncrypted": false, "Values": { "ORDERS_HOST": "{{upstream.Authority}}", "LEGACY_API_KEY": "k-123" } }""", "local.settings.json");

    [Fact]
    public async Task Every_untranslatable_proxy_is_listed_with_its_reason_and_nothing_is_written()
    {
        var result = await _cli.RunAsync("import-proxies", ProxiesFile, "--settings", Settings(new Uri("http://10.0.0.4:8080")));

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.DoesNotContain("proxy 'maintenance'", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("error: proxy 'hello' cannot be translated:", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("responseOverrides.response.body: '{request.querystring.name}' is a variable; a fixed response is literal", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("error: proxy 'local-function' cannot be translated:", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("points at the function app itself (localhost)", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("error: proxy 'teapot' cannot be translated:", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("response.statusCode on a proxy with a backend sets every response's status", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("'{backend.response.statusCode}' (a value of the backend's response) has no counterpart", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("error: proxy 'reports' cannot be translated:", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("backendUri uses app setting(s) %REPORTS_HOST%, which " + _cli.PathOf("local.settings.json") + " does not define.", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("Import refused: 4 of 10 proxies cannot be translated. Nothing was written", result.Stderr, StringComparison.Ordinal);
        Assert.False(await _cli.TablesExistAsync());
    }

    [Fact]
    public async Task Without_a_settings_file_an_app_setting_reference_is_an_error_naming_the_option()
    {
        var file = _cli.WriteFile("""{ "proxies": { "p": { "matchCondition": { "route": "/p" }, "backendUri": "https://%BACKEND%/p" } } }""", "proxies.json");

        var result = await _cli.RunAsync("import-proxies", file, "--output", _cli.PathOf("routes.json"));

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("backendUri uses app setting(s) %BACKEND%; give their values with --settings local.settings.json.", result.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(_cli.PathOf("routes.json")));
    }

    [Fact]
    public async Task A_setting_that_is_a_key_vault_reference_is_an_error_not_text_for_the_upstream()
    {
        // App settings exported from Azure hold references, which App Service resolved for Proxies at run time.
        var file = _cli.WriteFile("""
            { "proxies": { "p": { "matchCondition": { "route": "/p" }, "backendUri": "https://backend.example/p",
              "requestOverrides": { "backend.request.headers.x-functions-key": "%BACKEND_KEY%" } } } }
            """, "proxies.json");
        var settings = _cli.WriteFile("""
            { "Values": { "BACKEND_KEY": "@Microsoft.KeyVault(SecretUri=https://kv.vault.azure.net/secrets/backend-key)" } }
            """, "local.settings.json");

        var result = await _cli.RunAsync("import-proxies", file, "--settings", settings, "--output", _cli.PathOf("routes.json"));

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("requestOverrides.backend.request.headers.x-functions-key uses app setting(s) %BACKEND_KEY%, whose value in " + settings
            + " is a Key Vault or App Configuration reference", result.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(_cli.PathOf("routes.json")));
    }

    [Fact]
    public async Task Output_writes_the_routes_as_a_registry_file_that_fgw_validates()
    {
        var output = _cli.PathOf("routes.json");

        var result = await _cli.RunAsync("import-proxies", ProxiesFile, "--settings", Settings(new Uri("http://10.0.0.4:8080")), "--partial", "--output", output);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("proxy orders-get: GET /api/orders/{id} -> http://10.0.0.4:8080/v2/orders/{id} (2 transform(s))", result.StdoutLines);
        Assert.Contains("proxy files: * /files/{*path} -> http://10.0.0.4:8080/storage/{path}", result.StdoutLines);
        Assert.Contains("proxy old-search: * /search -> http://10.0.0.4:8080/search (disabled)", result.StdoutLines);
        Assert.Contains("proxy maintenance: GET /status -> fixed 200", result.StdoutLines);
        Assert.Contains("warning: proxy 'hello' cannot be translated and is left out:", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("note: proxy 'legacy-update': response.statusReason is left out", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("note: proxy 'old-search': 'debug' has no counterpart", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("note: proxy 'legacy-update': requestOverrides.backend.request.headers.X-Api-Key: the value of %LEGACY_API_KEY% is written into the route as text.", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("warning: route 'webhooks' (routes[5], group 'default') is rejected by a gateway running as a Functions app", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("Wrote 6 route(s) to " + output + ".", result.StdoutLines);

        var json = await File.ReadAllTextAsync(output);
        Assert.Contains("""
                  "transforms": [
                    {
                      "HttpMethodChange": "POST",
                      "Set": "PUT"
                    },
                    {
                      "HttpMethodChange": "PATCH",
                      "Set": "PUT"
                    },
                    {
                      "RequestHeader": "X-Api-Key",
                      "Set": "k-123"
                    },
                    {
                      "RequestHeader": "X-Client-Method",
                      "Set": "{Method}"
                    },
                    {
                      "RequestHeader": "X-Order",
                      "Set": "{Route:id}"
                    },
                    {
                      "RequestHeader": "X-Tenant",
                      "Set": "{Query:tenant}"
                    },
                    {
                      "RequestHeaderRemove": "X-Debug"
                    },
                    {
                      "QueryParameter": "api-version",
                      "Set": "2019-01-01"
                    },
                    {
                      "QueryParameterRemove": "trace"
                    },
                    {
                      "ResponseHeader": "Cache-Control",
                      "Set": "no-store"
                    },
                    {
                      "ResponseHeaderRemove": "X-Echo-Instance"
                    }
                  ]
            """.Replace("\r\n", "\n", StringComparison.Ordinal), json, StringComparison.Ordinal);

        Assert.Contains("""
                  "fixedResponse": {
                    "status": 200,
                    "headers": {
                      "Content-Type": "application/json"
                    },
                    "body": "{\"status\":\"ok\"}"
                  }
            """.Replace("\r\n", "\n", StringComparison.Ordinal), json, StringComparison.Ordinal);

        var validate = await _cli.RunAsync("validate", output);
        Assert.True(validate.ExitCode == 0, validate.ToString());
    }

    [Fact]
    public async Task Dry_run_prints_the_plan_against_the_tables_and_writes_nothing()
    {
        var result = await _cli.RunAsync("import-proxies", ProxiesFile, "--settings", Settings(new Uri("http://10.0.0.4:8080")), "--partial", "--dry-run");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("+ route legacy-update", result.StdoutLines);
        Assert.Contains("Dry run: nothing was written.", result.StdoutLines);
        Assert.False(await _cli.TablesExistAsync());
    }

    [Fact]
    public async Task The_imported_routes_serve_requests_end_to_end_as_the_proxies_did()
    {
        await using var upstream = await TestUpstream.StartAsync("orders");
        var import = await _cli.RunAsync("import-proxies", ProxiesFile, "--settings", Settings(upstream.BaseAddress), "--partial", "--group", "legacy");
        Assert.True(import.ExitCode == 0, import.ToString());
        Assert.Contains("Imported into ", import.Stdout, StringComparison.Ordinal);

        await using var gateway = await RunningGateway.StartAsync(_cli, ("FuncGateway:Registry:Groups", "legacy"));
        using var client = new HttpClient { BaseAddress = gateway.Address };

        // Route parameter into the upstream path; the backendUri's query set on top of the client's, from a header.
        using (var request = new HttpRequestMessage(HttpMethod.Get, "/api/orders/42?x=1"))
        {
            request.Headers.Add("X-Caller", "web");
            var echo = await (await client.SendAsync(request)).ReadEchoAsync();
            Assert.Equal("/v2/orders/42", echo.Path);
            Assert.Equal("?x=1&source=gateway&caller=web", echo.Query);
        }

        Assert.Equal(HttpStatusCode.MethodNotAllowed, (await client.PostAsync("/api/orders/42", null)).StatusCode);

        // A catch-all keeps its slashes.
        Assert.Equal("/storage/a/b/c.txt", (await (await client.GetAsync("/files/a/b/c.txt")).ReadEchoAsync()).Path);

        // Request and response overrides.
        using (var request = new HttpRequestMessage(HttpMethod.Post, "/api/legacy/7?trace=1&keep=1&tenant=contoso"))
        {
            request.Headers.Add("X-Debug", "1");
            using var response = await client.SendAsync(request);
            var echo = await response.ReadEchoAsync();
            Assert.Equal("PUT", echo.Method);
            Assert.Equal("/legacy/7", echo.Path);
            Assert.Equal("?keep=1&tenant=contoso&api-version=2019-01-01", echo.Query);
            Assert.Equal(["k-123"], echo.Headers["x-api-key"]);
            Assert.Equal(["POST"], echo.Headers["x-client-method"]);
            Assert.Equal(["7"], echo.Headers["x-order"]);
            Assert.Equal(["contoso"], echo.Headers["x-tenant"]);
            Assert.False(echo.Headers.ContainsKey("x-debug"));
            Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
            Assert.False(response.Headers.Contains("X-Echo-Instance"));
        }

        // A mock (no backendUri) is a fixed response: answered by the gateway, the upstream never sees it.
        var before = upstream.RequestCount;
        using (var response = await client.GetAsync("/status"))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("application/json", response.Content.Headers.ContentType?.ToString());
            Assert.Equal("""{"status":"ok"}""", await response.Content.ReadAsStringAsync());
        }

        Assert.Equal(HttpStatusCode.MethodNotAllowed, (await client.PostAsync("/status", null)).StatusCode);
        Assert.Equal(before, upstream.RequestCount);

        // A disabled proxy is a disabled route.
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/search")).StatusCode);

        // Kestrel serves a route under the Functions host's reserved paths (a Functions app would reject it).
        Assert.Equal("/hooks/github", (await (await client.GetAsync("/runtime/webhooks/github")).ReadEchoAsync()).Path);
    }

    [Fact]
    public async Task A_backend_path_is_sent_as_written_or_the_difference_is_said()
    {
        var file = _cli.WriteFile("""
            { "proxies": {
              "spaced": { "matchCondition": { "route": "/spaced/{id}" }, "backendUri": "http://10.0.0.4:8080/a%20b/{id}/?x=1&x=2" },
              "doubled": { "matchCondition": { "route": "/doubled" }, "backendUri": "http://10.0.0.4:8080/a//b" },
              "self": { "matchCondition": { "route": "/self" }, "backendUri": "http://LOCALHOST.:7071/api/self" },
              "slashed": { "matchCondition": { "route": "/slashed" }, "backendUri": "http://10.0.0.4:8080/a%2Fb" } } }
            """, "proxies.json");
        var output = _cli.PathOf("routes.json");

        var result = await _cli.RunAsync("import-proxies", file, "--partial", "--output", output);

        Assert.True(result.ExitCode == 0, result.ToString());
        var written = await File.ReadAllTextAsync(output);
        // A trailing '/' is kept (an UpstreamPath ending in '/' sends it); an empty segment cannot be, and the note says
        // what the upstream receives instead.
        Assert.Contains("\"upstreamPath\": \"/a b/{id}/\"", written, StringComparison.Ordinal);
        Assert.Contains("\"upstreamPath\": \"/a/b\"", written, StringComparison.Ordinal);
        Assert.DoesNotContain("note: proxy 'spaced': backendUri path", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("note: proxy 'doubled': backendUri path '/a//b' has an empty segment ('//'), which an UpstreamPath cannot hold: "
            + "the upstream receives '/a/b' (its parameters filled in) where Proxies sent '/a//b'.", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("note: proxy 'spaced': backendUri query parameter 'x' is given more than once", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("points at the function app itself (localhost)", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("backendUri path segment 'a%2Fb' holds an encoded slash", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_trailing_slash_and_a_plus_in_the_backend_query_reach_the_upstream_as_Proxies_sent_them()
    {
        await using var upstream = await TestUpstream.StartAsync("static");
        var file = _cli.WriteFile($$"""
            { "proxies": {
              "docs": { "matchCondition": { "route": "/docs" }, "backendUri": "{{upstream.BaseAddress.GetLeftPart(UriPartial.Authority)}}/static/docs/?q=hello+world&tag=a%2Bb" },
              "files": { "matchCondition": { "route": "/files/{*path}" }, "backendUri": "{{upstream.BaseAddress.GetLeftPart(UriPartial.Authority)}}/static/{path}/" } } }
            """, "proxies.json");
        var import = await _cli.RunAsync("import-proxies", file);
        Assert.True(import.ExitCode == 0, import.ToString());

        await using var gateway = await RunningGateway.StartAsync(_cli);
        using var client = new HttpClient { BaseAddress = gateway.Address };

        // Proxies sent '/static/docs/?q=hello+world&tag=a%2Bb': the backend read 'hello world' and 'a+b'.
        var docs = await (await client.GetAsync("/docs")).ReadEchoAsync();
        Assert.Equal("/static/docs/", docs.Path);
        Assert.Equal("?q=hello%20world&tag=a%2Bb", docs.Query);

        // One trailing slash, whether or not the client sent its own.
        Assert.Equal("/static/a/b/", (await (await client.GetAsync("/files/a/b")).ReadEchoAsync()).Path);
        Assert.Equal("/static/a/b/", (await (await client.GetAsync("/files/a/b/")).ReadEchoAsync()).Path);
    }

    [Fact]
    public async Task A_method_override_without_methods_never_passes_on_a_method_the_proxy_did_not_send()
    {
        await using var upstream = await TestUpstream.StartAsync("rpc");
        var file = _cli.WriteFile($$"""
            { "proxies": { "rpc": { "matchCondition": { "route": "/rpc" }, "backendUri": "{{upstream.BaseAddress.GetLeftPart(UriPartial.Authority)}}/rpc",
              "requestOverrides": { "backend.request.method": "POST" } } } }
            """, "proxies.json");
        var import = await _cli.RunAsync("import-proxies", file);
        Assert.True(import.ExitCode == 0, import.ToString());
        Assert.Contains("proxy rpc: GET,HEAD,POST,PUT,PATCH,DELETE,OPTIONS /rpc -> ", import.Stdout, StringComparison.Ordinal);
        Assert.Contains("answers any other method 405 rather than pass it on unchanged", import.Stderr, StringComparison.Ordinal);

        await using var gateway = await RunningGateway.StartAsync(_cli);
        using var client = new HttpClient { BaseAddress = gateway.Address };

        Assert.Equal("POST", (await (await client.GetAsync("/rpc")).ReadEchoAsync()).Method);
        Assert.Equal("POST", (await (await client.DeleteAsync("/rpc")).ReadEchoAsync()).Method);

        // Proxies sent these as POST too; passed on unchanged, the backend would see methods it never saw (WebDAV, a
        // cache's PURGE). Refused instead.
        var before = upstream.RequestCount;
        foreach (var method in new[] { "PROPFIND", "PURGE" })
        {
            using var response = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), "/rpc"));
            Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        }

        Assert.Equal(before, upstream.RequestCount);
    }

    [Fact]
    public async Task A_careless_proxies_file_is_refused_with_reasons_never_a_crash_and_never_echoes_credentials()
    {
        var file = _cli.WriteFile("""
            { "proxies": {
              "orders": { "matchCondition": { "route": "/orders" }, "backendUri": "https://backend.example/orders" },
              "Orders": { "matchCondition": { "route": "/orders2" }, "backendUri": "https://backend.example/orders2" },
              "items": { "matchCondition": { "route": "/items" }, "backendUri": "https://backend.example/items" },
              "items": { "matchCondition": { "route": "/items2" }, "backendUri": "https://backend.example/items2" },
              "numbered": { "matchCondition": { "route": "/n", "methods": [ "GET", 5 ] }, "backendUri": "https://backend.example/n" },
              "blank": { "matchCondition": { "route": "/blank", "methods": [ "" ] }, "backendUri": "https://backend.example/blank" },
              "named": { "matchCondition": { "route": "/named" }, "backendUri": "https://backend.example/named?{request.querystring.field}=1" },
              "basic": { "matchCondition": { "route": "/b" }, "backendUri": "https://svc:%BACKEND_PASSWORD%@backend.example/b" },
              "resolved": { "matchCondition": { "route": "/r" }, "backendUri": "%BACKEND_URL%" },
              "fine": { "matchCondition": { "route": "/fine" }, "backendUri": "https://backend.example/fine" } } }
            """, "proxies.json");
        var settings = _cli.WriteFile("""{ "Values": { "BACKEND_PASSWORD": "hunter2-secret", "BACKEND_URL": "https://backend.example/r?key=hunter2-secret#top" } }""", "local.settings.json");
        var output = _cli.PathOf("routes.json");

        var result = await _cli.RunAsync("import-proxies", file, "--settings", settings, "--output", output);

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("error: proxy 'orders' cannot be translated:", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("error: proxy 'Orders' cannot be translated:", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("The file defines 2 proxies named 'items' (names compare ignoring case); Proxies kept only one of them.", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("matchCondition.methods holds 5; it must be an array of method names", result.Stderr, StringComparison.Ordinal);
        // An empty name would have made a route of every method; a variable in a parameter's name would be sent as braces.
        Assert.Contains("matchCondition.methods holds \"\"; it must be an array of method names", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("backendUri query parameter name '{request.querystring.field}' holds a variable", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("backendUri 'https://…@backend.example' carries credentials (user:password@)", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("backendUri '%BACKEND_URL%' is not an absolute http(s) URL once its app settings are resolved.", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("Import refused: 9 of 10 proxies cannot be translated.", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", result.ToString(), StringComparison.Ordinal);
        Assert.False(File.Exists(output));

        // With --partial, the proxies that translate are written; the others stay out, never approximated.
        var partial = await _cli.RunAsync("import-proxies", file, "--settings", settings, "--partial", "--output", output);
        Assert.True(partial.ExitCode == 0, partial.ToString());
        Assert.DoesNotContain("hunter2", partial.ToString(), StringComparison.Ordinal);
        var written = await File.ReadAllTextAsync(output);
        Assert.Contains("\"id\": \"fine\"", written, StringComparison.Ordinal);
        Assert.DoesNotContain("\"id\": \"items\"", written, StringComparison.Ordinal);
    }

    public void Dispose() => _cli.Dispose();
}
