using System.Net;
using System.Text;
using FuncGateway.Samples.Echo;
using FuncGateway.Server.Tests.Infrastructure;
using FuncGateway.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace FuncGateway.Server.Tests.Versioning;

/// <summary>
/// API versioning through the real server, real Kestrel upstreams (one per version) and Azurite: each of the four
/// schemes picks the version's upstream, a request naming none gets the default, an unknown version gets 400 with the
/// supported ones, a deprecated version answers with <c>Deprecation</c>, <c>Sunset</c> and <c>Link</c>, and the
/// worked example of docs/versioning.md: a deprecated v1 served by the v2 upstream through transforms.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class VersioningTests(AzuriteFixture azurite) : IAsyncLifetime
{
    // The worked example's transforms (docs/versioning.md): what v1 clients send and expect, mapped onto v2.
    private const string V1ToV2 = """
        [{"QueryParameterRename":"fields","To":"select"},
         {"RequestHeaderRename":"X-Customer","To":"X-Customer-Id"},
         {"RequestHeader":"Api-Version","Set":"2"},
         {"ResponseStatus":"201","Set":"200"},
         {"ResponseHeaderRemove":"X-RateLimit-Policy-V2"}]
        """;

    private TestUpstream _v1 = null!;
    private TestUpstream _v2 = null!;
    private TestUpstream _ordersV2 = null!;
    private GatewayHost _gateway = null!;
    private readonly Diagnostics.TelemetryCapture _capture = new();

    public async Task InitializeAsync()
    {
        _v1 = await TestUpstream.StartAsync("v1");
        _v2 = await TestUpstream.StartAsync("v2");

        // The orders service, version 2 only: 201 for a POST, a header of its own.
        _ordersV2 = await TestUpstream.StartAsync("orders-v2", app => app.Run(context =>
        {
            context.Response.OnStarting(() =>
            {
                context.Response.StatusCode = HttpMethods.IsPost(context.Request.Method) ? StatusCodes.Status201Created : StatusCodes.Status200OK;
                context.Response.Headers["X-RateLimit-Policy-V2"] = "internal";
                return Task.CompletedTask;
            });
            return EchoHandler.HandleAsync(context, "orders-v2");
        }));
        _gateway = await GatewayHost.StartAsync(azurite.ConnectionString, new Dictionary<string, string?>
        {
            ["FuncGateway:Versioning:Sets:hdr:Scheme"] = "Header",
            ["FuncGateway:Versioning:Sets:hdr:Versions"] = "1,2",
            ["FuncGateway:Versioning:Sets:hdr:Default"] = "1",
            ["FuncGateway:Versioning:Sets:qry:Scheme"] = "Query",
            ["FuncGateway:Versioning:Sets:qry:Versions"] = "2024-01-01,2025-06-01",
            ["FuncGateway:Versioning:Sets:qry:Default"] = "2025-06-01",
            ["FuncGateway:Versioning:Sets:media:Scheme"] = "MediaType",
            ["FuncGateway:Versioning:Sets:media:Versions"] = "1,2",
            ["FuncGateway:Versioning:Sets:media:Default"] = "2",
            ["FuncGateway:Versioning:Sets:path:Scheme"] = "Path",
            ["FuncGateway:Versioning:Sets:path:Versions"] = "1,2",
            ["FuncGateway:Versioning:Sets:path:Default"] = "1",
            ["FuncGateway:Versioning:Sets:strict:Scheme"] = "Header",
            ["FuncGateway:Versioning:Sets:strict:Versions"] = "1,2,3",

            // The worked example (docs/versioning.md).
            ["FuncGateway:Versioning:Sets:orders:Scheme"] = "Path",
            ["FuncGateway:Versioning:Sets:orders:Versions"] = "1,2",
            ["FuncGateway:Versioning:Sets:orders:Default"] = "2",
            ["FuncGateway:Versioning:Sets:orders:Deprecations:1:Date"] = "2026-01-01",
            ["FuncGateway:Versioning:Sets:orders:Deprecations:1:Sunset"] = "2026-07-01",
            ["FuncGateway:Versioning:Sets:orders:Deprecations:1:SuccessorLink"] = "/api/v2/orders",
            ["FuncGateway:Versioning:Sets:orders:Deprecations:1:DeprecationLink"] = "https://developer.example.com/orders/v1-deprecation",
        }, logging: _capture.AddTo);
        await _gateway.UpsertUpstreamAsync("orders-v2", _ordersV2.BaseAddress);
        await VersionsAsync("hdr", "/h/{id}");
        await VersionsAsync("qry", "/q/{id}", "2024-01-01", "2025-06-01");
        await VersionsAsync("media", "/m/{id}");
        await VersionsAsync("path", "/p/{version}/items/{id}");
        await VersionsAsync("strict", "/s/{id}", "1", "3");
        await _gateway.UpsertRouteAsync("orders-v1", "/api/{version}/orders/{**rest}", "orders-v2",
            ("VersionSet", "orders"), ("ApiVersion", "1"), ("UpstreamPath", "/orders/{**rest}"), ("Transforms", V1ToV2));
        await _gateway.UpsertRouteAsync("orders-v2", "/api/{version}/orders/{**rest}", "orders-v2",
            ("VersionSet", "orders"), ("ApiVersion", "2"), ("UpstreamPath", "/orders/{**rest}"), ("Methods", "GET,POST"));

        // Shared cached routes of each kind of set, every version served by one upstream that reads the version
        // itself (as the worked example's orders service does): the version must reach it, and be in the key.
        foreach (var (set, path, first, second, cache) in new[]
        {
            ("hdr", "/hc/{id}", "1", "2", """{"ttlSeconds":60}"""),
            ("media", "/mc/{id}", "1", "2", """{"ttlSeconds":60}"""),
            ("qry", "/qc/{id}", "2024-01-01", "2025-06-01", """{"ttlSeconds":60,"query":["page"]}"""),
        })
        {
            await _gateway.UpsertRouteAsync(set + "-cached-a", path, _v1.BaseAddress.ToString(), ("VersionSet", set), ("ApiVersion", first), ("Cache", cache));
            await _gateway.UpsertRouteAsync(set + "-cached-b", path, _v1.BaseAddress.ToString(), ("VersionSet", set), ("ApiVersion", second), ("Cache", cache));
        }

        await _gateway.ReloadAsync();
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _v1.DisposeAsync();
        await _v2.DisposeAsync();
        await _ordersV2.DisposeAsync();
    }

    /// <summary>Two routes of <paramref name="set"/> on the same path: the first version to the v1 upstream, the second to v2.</summary>
    private async Task VersionsAsync(string set, string path, string first = "1", string second = "2")
    {
        await _gateway.UpsertRouteAsync(set + "-a", path, _v1.BaseAddress.ToString(), ("VersionSet", set), ("ApiVersion", first));
        await _gateway.UpsertRouteAsync(set + "-b", path, _v2.BaseAddress.ToString(), ("VersionSet", set), ("ApiVersion", second));
    }

    private async Task<(string Instance, HttpResponseMessage Response)> GetAsync(string path, Action<HttpRequestMessage>? configure = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        configure?.Invoke(request);
        var response = await _gateway.Client.SendAsync(request);
        return ((await Echo.ReadAsync(response)).Instance, response);
    }

    [Fact]
    public async Task A_look_alike_of_the_version_header_neither_picks_the_route_nor_reaches_the_upstream()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/h/7");
        request.Headers.TryAddWithoutValidation("Api_Version", "2");
        request.Headers.TryAddWithoutValidation("api.version", "2");
        request.Headers.TryAddWithoutValidation("X-Other", "kept");
        using var response = await _gateway.Client.SendAsync(request);
        var echo = await Echo.ReadAsync(response);

        Assert.Equal("v1", echo.Instance);
        Assert.Empty(echo.Header("Api_Version"));
        Assert.Empty(echo.Header("api.version"));
        Assert.Equal(["kept"], echo.Header("X-Other"));

        var (named2, _) = await GetAsync("/h/7", r => r.Headers.Add("Api-Version", "2"));
        Assert.Equal("v2", named2);
    }

    [Fact]
    public async Task The_header_scheme_picks_the_upstream_of_the_named_version_and_varies_on_the_header()
    {
        var (named2, response) = await GetAsync("/h/7", r => r.Headers.Add("Api-Version", "2"));
        Assert.Equal("v2", named2);
        Assert.Contains("Api-Version", response.Headers.Vary);
        Assert.Equal("v1", (await GetAsync("/h/7", r => r.Headers.Add("api-version", "1"))).Instance);
        Assert.Equal("v1", (await GetAsync("/h/7")).Instance);

        using var unknown = new HttpRequestMessage(HttpMethod.Get, "/h/7");
        unknown.Headers.Add("Api-Version", "3");
        using var refused = await _gateway.Client.SendAsync(unknown);
        var problem = await Problem.AssertAsync(refused, HttpStatusCode.BadRequest, "unsupported_api_version");
        Assert.Equal("3", problem.GetProperty("requestedVersion").GetString());
        Assert.Equal(["1", "2"], problem.GetProperty("supportedVersions").EnumerateArray().Select(static v => v.GetString()));
        Assert.Contains("Api-Version", refused.Headers.Vary);
        Assert.Equal(3, _v1.RequestCount + _v2.RequestCount);

        // The operator sees the refusal too: which set, what was asked for, what is served.
        var logged = Assert.Single(_capture.Logs.Records, static r => r.EventId.Id == 8200);
        Assert.Equal(LogLevel.Information, logged.Level);
        Assert.Equal("Request refused: unsupported_api_version. Version set 'hdr': requested '3', served 1, 2.", logged.Message);
    }

    [Fact]
    public async Task The_query_scheme_picks_the_named_version_and_the_default_otherwise()
    {
        Assert.Equal("v1", (await GetAsync("/q/7?api-version=2024-01-01")).Instance);
        Assert.Equal("v2", (await GetAsync("/q/7?x=1&api-version=2025-06-01")).Instance);
        Assert.Equal("v2", (await GetAsync("/q/7")).Instance);

        using var refused = await _gateway.Client.GetAsync("/q/7?api-version=2023-01-01");
        var problem = await Problem.AssertAsync(refused, HttpStatusCode.BadRequest, "unsupported_api_version");
        Assert.Equal(["2024-01-01", "2025-06-01"], problem.GetProperty("supportedVersions").EnumerateArray().Select(static v => v.GetString()));
    }

    [Fact]
    public async Task A_semicolon_cannot_hide_from_the_gateway_a_version_the_backend_reads()
    {
        // Python before 3.9.2 and some Java stacks read "x=1;api-version=…" as two parameters: the default version's
        // route was chosen, so its backend must not find another version.
        using var response = await _gateway.Client.GetAsync("/q/7?x=1;api-version=2024-01-01");
        var echo = await Echo.ReadAsync(response);

        Assert.Equal("v2", echo.Instance);
        Assert.Equal("?x=1%3Bapi-version=2024-01-01", echo.Query);
    }

    [Fact]
    public async Task The_bracketed_forms_of_the_query_parameter_name_a_version_as_backends_read_them()
    {
        // PHP, Rack and Express read api-version[]=… as api-version: such a request must not reach the default
        // version's route while its backend sees another version.
        Assert.Equal("v1", (await GetAsync("/q/7?api-version[]=2024-01-01")).Instance);
        Assert.Equal("v1", (await GetAsync("/q/7?API-VERSION[0]=2024-01-01")).Instance);
        var before = _v1.RequestCount + _v2.RequestCount;

        using var both = await _gateway.Client.GetAsync("/q/7?api-version=2025-06-01&api-version[]=2024-01-01");
        var problem = await Problem.AssertAsync(both, HttpStatusCode.BadRequest, "unsupported_api_version");
        Assert.Equal("2025-06-01, 2024-01-01", problem.GetProperty("requestedVersion").GetString());
        Assert.Equal(before, _v1.RequestCount + _v2.RequestCount);

        // Another parameter that only begins with the name is not the version.
        Assert.Equal("v2", (await GetAsync("/q/7?api-versions=2024-01-01")).Instance);
    }

    [Fact]
    public async Task The_media_type_scheme_reads_the_parameter_of_accept_and_varies_on_accept()
    {
        var (instance, response) = await GetAsync("/m/7", r => r.Headers.Accept.ParseAdd("application/json;v=1"));
        Assert.Equal("v1", instance);
        Assert.Contains("Accept", response.Headers.Vary);
        Assert.Equal("v2", (await GetAsync("/m/7", r => r.Headers.Accept.ParseAdd("application/json; v=2"))).Instance);
        Assert.Equal("v2", (await GetAsync("/m/7", r => r.Headers.Accept.ParseAdd("application/json"))).Instance);

        using var unknown = new HttpRequestMessage(HttpMethod.Get, "/m/7");
        unknown.Headers.Accept.ParseAdd("application/json;v=5");
        using var refused = await _gateway.Client.SendAsync(unknown);
        var problem = await Problem.AssertAsync(refused, HttpStatusCode.BadRequest, "unsupported_api_version");
        Assert.Equal("5", problem.GetProperty("requestedVersion").GetString());
    }

    [Fact]
    public async Task The_path_scheme_picks_the_segment_and_serves_a_path_without_one_as_the_defaults()
    {
        using var v2 = await _gateway.Client.GetAsync("/p/v2/items/7");
        var echo2 = await Echo.ReadAsync(v2);
        Assert.Equal(("v2", "/p/v2/items/7"), (echo2.Instance, echo2.Path));

        // No segment: the default version, forwarded exactly as the versioned path would be.
        using var unnamed = await _gateway.Client.GetAsync("/p/items/7?x=1");
        var echo = await Echo.ReadAsync(unnamed);
        Assert.Equal(("v1", "/p/v1/items/7", "?x=1"), (echo.Instance, echo.Path, echo.Query));
        Assert.False(unnamed.Headers.Contains("Vary"));

        using var refused = await _gateway.Client.GetAsync("/p/v9/items/7");
        var problem = await Problem.AssertAsync(refused, HttpStatusCode.BadRequest, "unsupported_api_version");
        Assert.Equal("v9", problem.GetProperty("requestedVersion").GetString());
        Assert.Equal(["v1", "v2"], problem.GetProperty("supportedVersions").EnumerateArray().Select(static v => v.GetString()));
    }

    [Fact]
    public async Task Without_a_default_a_request_naming_no_version_gets_400_with_the_versions_of_its_path()
    {
        using var refused = await _gateway.Client.GetAsync("/s/7");
        var problem = await Problem.AssertAsync(refused, HttpStatusCode.BadRequest, "api_version_required");
        Assert.False(problem.TryGetProperty("requestedVersion", out _));
        Assert.Equal(["1", "3"], problem.GetProperty("supportedVersions").EnumerateArray().Select(static v => v.GetString()));
        Assert.Equal("v1", (await GetAsync("/s/7", r => r.Headers.Add("Api-Version", "1"))).Instance);
        var logged = Assert.Single(_capture.Logs.Records, static r => r.EventId.Id == 8200);
        Assert.Equal("Request refused: api_version_required. Version set 'strict': requested none, served 1, 3.", logged.Message);
    }

    [Fact]
    public async Task A_v1_client_is_served_by_the_v2_upstream_through_transforms_and_told_v1_is_deprecated()
    {
        // The v1 client's request: its query parameter, its header, its path; a POST that v2 answers with 201.
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/orders/42?fields=id,total");
        request.Headers.Add("X-Customer", "c-17");
        request.Headers.Add("Api-Version", "1");
        request.Content = new StringContent("{\"qty\":1}", Encoding.UTF8, "application/json");
        using var response = await _gateway.Client.SendAsync(request);

        // What v1 clients expect: 200, not v2's 201, and none of v2's own headers.
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(response.Headers.Contains("X-RateLimit-Policy-V2"));
        var echo = await Echo.ReadAsync(response);
        Assert.Equal(("orders-v2", "POST", "/orders/42", "?select=id,total"), (echo.Instance, echo.Method, echo.Path, echo.Query));
        Assert.Equal(["c-17"], echo.Header("X-Customer-Id"));
        Assert.Empty(echo.Header("X-Customer"));
        Assert.Equal(["2"], echo.Header("Api-Version"));
        Assert.Equal("{\"qty\":1}", echo.Body);

        // And that v1 is deprecated: RFC 9745 and RFC 8594 headers, the successor and the deprecation's documentation.
        Assert.Equal("@1767225600", Assert.Single(response.Headers.GetValues("Deprecation")));
        Assert.Equal("Wed, 01 Jul 2026 00:00:00 GMT", Assert.Single(response.Headers.GetValues("Sunset")));
        var links = response.Headers.GetValues("Link").SelectMany(static l => l.Split(", ")).ToArray();
        Assert.Contains("</api/v2/orders>; rel=\"successor-version\"", links);
        Assert.Contains("<https://developer.example.com/orders/v1-deprecation>; rel=\"deprecation\"", links);

        // v2 clients (and those naming no version: v2 is the default) get v2 as it is, without deprecation headers.
        using var v2Request = new HttpRequestMessage(HttpMethod.Post, "/api/v2/orders/42?select=id");
        v2Request.Content = new StringContent("{}", Encoding.UTF8, "application/json");
        using var v2 = await _gateway.Client.SendAsync(v2Request);
        Assert.Equal(HttpStatusCode.Created, v2.StatusCode);
        Assert.False(v2.Headers.Contains("Deprecation"));
        Assert.Equal("internal", v2.Headers.GetValues("X-RateLimit-Policy-V2").Single());
        using var unnamed = await _gateway.Client.GetAsync("/api/orders/42");
        var unnamedEcho = await Echo.ReadAsync(unnamed);
        Assert.Equal(("orders-v2", "/orders/42"), (unnamedEcho.Instance, unnamedEcho.Path));
        Assert.False(unnamed.Headers.Contains("Deprecation"));
    }

    [Fact]
    public async Task A_deprecated_versions_gateway_made_errors_carry_the_deprecation_headers_too()
    {
        // v1 takes every method; v2 takes GET and POST: a DELETE on v2 is 405, on v1 it reaches the upstream.
        using var v2 = await _gateway.Client.SendAsync(new HttpRequestMessage(HttpMethod.Delete, "/api/v2/orders/42"));
        await Problem.AssertAsync(v2, HttpStatusCode.MethodNotAllowed, "method_not_allowed");
        Assert.False(v2.Headers.Contains("Deprecation"));

        await _ordersV2.StopAsync();
        using var v1 = await _gateway.Client.GetAsync("/api/v1/orders/42");
        Assert.True(v1.StatusCode is HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable, $"got {(int)v1.StatusCode}");
        Assert.Equal("application/problem+json", v1.Content.Headers.ContentType?.MediaType);
        Assert.Equal("@1767225600", Assert.Single(v1.Headers.GetValues("Deprecation")));
        Assert.Contains(v1.Headers.GetValues("Link"), static l => l.Contains("rel=\"successor-version\"", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_shared_cached_route_forwards_and_keys_the_version_header_it_was_chosen_by()
    {
        var (miss, echo) = await CachedAsync("/hc/7", r => r.Headers.Add("Api-Version", "2"));
        Assert.Equal("miss", miss);
        Assert.Equal(["2"], echo.Header("Api-Version"));

        var (hit, again) = await CachedAsync("/hc/7", r => r.Headers.Add("Api-Version", "2"));
        Assert.Equal(("hit", "2"), (hit, string.Join(",", again.Header("Api-Version"))));

        // Version 1, named or by default, is never version 2's entry, and its upstream learns which it is.
        var (named1, echo1) = await CachedAsync("/hc/7", r => r.Headers.Add("Api-Version", "1"));
        Assert.Equal(("miss", "1"), (named1, string.Join(",", echo1.Header("Api-Version"))));
        var (unnamed, echoUnnamed) = await CachedAsync("/hc/7");
        Assert.Equal(("miss", ""), (unnamed, string.Join(",", echoUnnamed.Header("Api-Version"))));
        Assert.Equal(3, _v1.RequestCount);
    }

    [Fact]
    public async Task A_shared_cached_route_forwards_and_keys_the_accept_header_its_media_type_version_came_from()
    {
        var (miss, echo) = await CachedAsync("/mc/7", r => r.Headers.Accept.ParseAdd("application/json;v=1"));
        Assert.Equal("miss", miss);
        Assert.Equal(["application/json; v=1"], echo.Header("Accept"));
        Assert.Equal("hit", (await CachedAsync("/mc/7", r => r.Headers.Accept.ParseAdd("application/json;v=1"))).XCache);

        var (v2, echo2) = await CachedAsync("/mc/7", r => r.Headers.Accept.ParseAdd("application/json;v=2"));
        Assert.Equal(("miss", "application/json; v=2"), (v2, string.Join(",", echo2.Header("Accept"))));
        Assert.Equal(2, _v1.RequestCount);
    }

    [Fact]
    public async Task A_shared_cached_route_with_a_query_list_forwards_and_keys_the_version_parameter_in_every_form()
    {
        var (miss, echo) = await CachedAsync("/qc/7?api-version=2024-01-01&page=1&other=x");
        Assert.Equal(("miss", "?api-version=2024-01-01&page=1"), (miss, echo.Query));
        Assert.Equal("hit", (await CachedAsync("/qc/7?page=1&api-version=2024-01-01")).XCache);

        // The bracketed form chose version 2024-01-01 too: its backend reads it as the version.
        var (bracketed, echoBracketed) = await CachedAsync("/qc/7?API-VERSION[0]=2024-01-01&page=1");
        Assert.Equal(("miss", "?API-VERSION[0]=2024-01-01&page=1"), (bracketed, echoBracketed.Query));

        var (unnamed, echoUnnamed) = await CachedAsync("/qc/7?page=1");
        Assert.Equal(("miss", "?page=1"), (unnamed, echoUnnamed.Query));
        Assert.Equal(3, _v1.RequestCount);
    }

    private async Task<(string XCache, Echo Echo)> CachedAsync(string path, Action<HttpRequestMessage>? configure = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        configure?.Invoke(request);
        using var response = await _gateway.Client.SendAsync(request);
        var echo = await Echo.ReadAsync(response);
        return (string.Join(",", response.Headers.GetValues("X-Cache")), echo);
    }

    [Fact]
    public async Task A_route_naming_an_unknown_set_or_version_is_rejected_and_listed_with_its_reason()
    {
        await _gateway.UpsertRouteAsync("typo-set", "/typo", _v1.BaseAddress.ToString(), ("VersionSet", "hdrs"), ("ApiVersion", "1"));
        await _gateway.UpsertRouteAsync("typo-version", "/typo2", _v1.BaseAddress.ToString(), ("VersionSet", "hdr"), ("ApiVersion", "3"));
        await _gateway.ReloadAsync();

        var rejected = await _gateway.RejectedReasonsAsync();
        Assert.Equal("VersionSet names unknown set 'hdrs'. Configured sets: hdr, media, orders, path, qry, strict.", rejected["typo-set"]);
        Assert.Equal("ApiVersion '3' is not a version of set 'hdr' (1, 2).", rejected["typo-version"]);
        Assert.Equal("v2", (await GetAsync("/h/7", r => r.Headers.Add("Api-Version", "2"))).Instance);
    }

    [Fact]
    public async Task An_invalid_set_stops_start_up_naming_the_key()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => GatewayHost.StartAsync(azurite.ConnectionString, new Dictionary<string, string?>
        {
            ["FuncGateway:Versioning:Sets:orders:Scheme"] = "Cookie",
            ["FuncGateway:Versioning:Sets:orders:Versions"] = "1",
        }));

        Assert.Contains("FuncGateway:Versioning:Sets:orders:Scheme 'Cookie' is not a scheme", error.Message, StringComparison.Ordinal);
    }
}
