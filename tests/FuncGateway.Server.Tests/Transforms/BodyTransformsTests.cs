using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using FuncGateway.Authentication.Basic;
using FuncGateway.Server.Tests.Infrastructure;
using FuncGateway.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace FuncGateway.Server.Tests.Transforms;

/// <summary>
/// JSON response body transforms through the real server, a real Kestrel upstream and Azurite: fields removed by JSON
/// Pointer (inside arrays too) unless the caller has a role; the upstream asked for identity encoding; a compressed or
/// non-JSON body refused with 502 and never passed on; routes without body transforms still stream.
/// </summary>
[Collection("Azurite")]
public sealed class BodyTransformsTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private const string Order = """{"id":7,"items":[{"sku":"a","cost":3},{"sku":"b","cost":4}],"internal":{"margin":0.4}}""";

    private const string Filter = """
        [{"ResponseBodyRemove":"/items/*/cost","UnlessRole":"finance"},
         {"ResponseBodyRemove":"/internal"},
         {"ResponseHeader":"X-Filtered","Set":"yes"}]
        """;

    private TestUpstream _upstream = null!;
    private GatewayHost _gateway = null!;

    public async Task InitializeAsync()
    {
        _upstream = await TestUpstream.StartAsync("orders-json", app =>
        {
            app.MapGet("/order", (HttpContext context) =>
            {
                context.Response.Headers["X-Seen-Accept-Encoding"] = context.Request.Headers.AcceptEncoding.ToString();
                context.Response.ContentType = "application/json";
                return context.Response.WriteAsync(Order);
            });
            app.MapGet("/gzip", async (HttpContext context) =>
            {
                context.Response.ContentType = "application/json";
                context.Response.Headers.ContentEncoding = "gzip";
                using var buffer = new MemoryStream();
                using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
                {
                    gzip.Write(Encoding.UTF8.GetBytes(Order));
                }

                await context.Response.Body.WriteAsync(buffer.ToArray());
            });
            app.MapGet("/html", (HttpContext context) =>
            {
                context.Response.StatusCode = 500;
                context.Response.ContentType = "text/html";
                return context.Response.WriteAsync("<html>secret stack trace</html>");
            });
            app.MapGet("/page", (HttpContext context) =>
            {
                context.Response.Headers["X-Total-Count"] = "42";
                context.Response.Headers["Link"] = "<http://10.1.2.3:8080/orders?page=3>; rel=\"next\", <http://10.1.2.3:8080/orders?page=1>; rel=\"prev\"";
                context.Response.ContentType = "application/json";
                return context.Response.WriteAsync("""[{"id":1,"internal":true}]""");
            });
            app.MapGet("/stall", async (HttpContext context) =>
            {
                // Half a body, then nothing until the gateway gives up.
                context.Response.ContentType = "application/json";
                await context.Response.WriteAsync("""{"id":7,""", context.RequestAborted);
                await context.Response.Body.FlushAsync(context.RequestAborted);
                await Task.Delay(Timeout.Infinite, context.RequestAborted);
            });
            app.MapGet("/ranged", (HttpContext context) =>
            {
                // A file or blob server: it answers a Range with 206 and that slice of the document.
                context.Response.Headers["X-Seen-Range"] = context.Request.Headers.Range.ToString() + context.Request.Headers.IfRange.ToString();
                return Results.Bytes(Encoding.UTF8.GetBytes(Order), "application/json", enableRangeProcessing: true);
            });
            app.MapFallback((HttpContext context) =>
            {
                // Pagination links built from the request path, as many frameworks build them.
                var path = context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestFeature>()!.RawTarget.Split('?')[0];
                context.Response.Headers["Link"] = $"<http://10.1.2.3:8080{path}?page=2>; rel=\"next\", <http://10.1.2.3:8080/list?page=1>; rel=\"prev\"";
                context.Response.ContentType = "application/json";
                return context.Response.WriteAsync("""[{"id":1}]""");
            });
            app.MapGet("/empty", (HttpContext context) => { context.Response.StatusCode = 204; return Task.CompletedTask; });
            app.MapGet("/unpaired", (HttpContext context) =>
            {
                context.Response.ContentType = "application/json";
                return context.Response.WriteAsync("""{"id":7,"items":[{"sku":"\ud800","cost":1}],"internal":{}}""");
            });
            app.MapGet("/repeated", (HttpContext context) =>
            {
                // A member twice: parsers disagree on which one counts (first, last, both), so it is not JSON to transform.
                context.Response.ContentType = "application/json";
                return context.Response.WriteAsync("""{"id":7,"internal":{"margin":0.4},"items":[],"internal":{}}""");
            });
            app.MapGet("/not-utf8", (HttpContext context) =>
            {
                context.Response.ContentType = "application/json";
                byte[] body = [.. "{\"id\":7,\"internal\":\""u8, 0xFF, 0xFE, .. "\"}"u8];
                return context.Response.Body.WriteAsync(body).AsTask();
            });
        });
        _gateway = await GatewayHost.StartAsync(azurite.ConnectionString, new Dictionary<string, string?>
        {
            ["FuncGateway:Auth:Policies:staff:Type"] = "Basic",
            ["FuncGateway:Auth:Policies:staff:Users:alice"] = PasswordHash.Create("pw", PasswordHash.MinimumIterations).ToString(),
            ["FuncGateway:Auth:Policies:staff:Users:bob"] = PasswordHash.Create("pw", PasswordHash.MinimumIterations).ToString(),
            ["FuncGateway:Auth:Policies:staff:Roles:alice"] = "finance",
            ["FuncGateway:Auth:Policies:staff:Roles:bob"] = "sales",
        });
        await _gateway.UpsertUpstreamAsync("orders-json", _upstream.BaseAddress);
        await _gateway.UpsertRouteAsync("filtered", "/filtered/{**rest}", "orders-json", ("StripPrefix", "/filtered"), ("Auth", "staff"), ("Transforms", Filter));
        await _gateway.UpsertRouteAsync("public", "/public/{**rest}", "orders-json", ("StripPrefix", "/public"), ("Transforms", Filter));
        await _gateway.UpsertRouteAsync("plain", "/plain/{**rest}", "orders-json", ("StripPrefix", "/plain"));
        await _gateway.UpsertRouteAsync("cached-filtered", "/cached-filtered/{**rest}", "orders-json", ("StripPrefix", "/cached-filtered"),
            ("Auth", "staff"), ("Transforms", Filter), ("Cache", """{"ttlSeconds":60,"shared":false}"""));
        await _gateway.UpsertRouteAsync("cached-public", "/cached-public/{**rest}", "orders-json", ("StripPrefix", "/cached-public"),
            ("Transforms", Filter), ("Cache", """{"ttlSeconds":60}"""));
        await _gateway.UpsertRouteAsync("problems", "/problems/{**rest}", "orders-json", ("StripPrefix", "/problems"),
            ("Transforms", """[{"ResponseProblem":"5xx,404"},{"ResponseBodyRemove":"/internal"}]"""));
        await _gateway.UpsertRouteAsync("enveloped", "/enveloped/{**rest}", "orders-json", ("StripPrefix", "/enveloped"),
            ("Transforms", """[{"ResponseBodyRemove":"/*/internal"},{"ResponseEnvelope":"data","Meta":"meta"}]"""));
        await _gateway.UpsertRouteAsync("stalled", "/stalled/{**rest}", "orders-json", ("StripPrefix", "/stalled"), ("Transforms", Filter), ("TimeoutSeconds", 1.0));
        await _gateway.UpsertRouteAsync("bad-pointer", "/bad/{**rest}", "orders-json", ("Transforms", """[{"ResponseBodyRemove":"items"}]"""));
        await _gateway.ReloadAsync();
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    [Fact]
    public async Task A_body_that_stops_arriving_on_a_buffering_route_gets_504_upstream_timeout_like_a_response_that_never_came()
    {
        // Before, the route's timeout surfaced as a failed response head: 502 upstream_error.
        using var response = await _gateway.Client.GetAsync("/stalled/stall");

        await Problem.AssertAsync(response, HttpStatusCode.GatewayTimeout, "upstream_timeout");
    }

    [Theory]
    [InlineData("bytes=71-84")]
    [InlineData("bytes=71-84, 0-0")]
    public async Task A_range_request_gets_the_whole_transformed_body_never_an_untransformed_slice(string range)
    {
        // Bytes 71-84 of the upstream's document are {"margin":0.4}, JSON by itself: the route's removal of /internal
        // never sees it. Before, the client got it with 206.
        using var request = new HttpRequestMessage(HttpMethod.Get, "/public/ranged");
        request.Headers.TryAddWithoutValidation("Range", range);
        using var response = await _gateway.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(string.Empty, response.Headers.GetValues("X-Seen-Range").Single());
        Assert.Null(response.Content.Headers.ContentRange);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal("""{"id":7,"items":[{"sku":"a"},{"sku":"b"}]}""", body);
        Assert.DoesNotContain("margin", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_envelope_link_never_names_another_host_when_the_client_chose_the_upstreams_path()
    {
        const string Path = "/enveloped//evil.example/list";
        // The upstream's next link is http://10.1.2.3:8080//evil.example/list?page=2: without scheme and host it was
        // //evil.example/list?page=2, which a browser follows to evil.example.
        var address = new Uri(_gateway.Client.BaseAddress!.GetLeftPart(UriPartial.Authority) + Path,
            new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true });
        using var response = await _gateway.Client.GetAsync(address);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("<http://10.1.2.3:8080//evil.example/list?page=2>", response.Headers.GetValues("Link").Single(), StringComparison.Ordinal);
        var links = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["meta"]!["links"]!.AsObject();
        Assert.Equal("/list?page=1", (string)links["prev"]!);
        Assert.False(links.ContainsKey("next"), links.ToJsonString());
    }

    private async Task<HttpResponseMessage> GetAsync(string path, string? user = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.AcceptEncoding.ParseAdd("gzip, br");
        if (user is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(user + ":pw")));
        }

        return await _gateway.Client.SendAsync(request);
    }

    [Theory]
    [InlineData("/public/repeated")]
    [InlineData("/enveloped/repeated")]
    public async Task An_upstream_body_that_repeats_a_member_gets_502_invalid_response_body_not_a_500(string path)
    {
        using var response = await _gateway.Client.GetAsync(path);

        var body = await response.Content.ReadAsStringAsync();
        await Problem.AssertAsync(response, HttpStatusCode.BadGateway, "invalid_response_body");
        Assert.DoesNotContain("margin", body, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/public/unpaired")]
    [InlineData("/public/not-utf8")]
    public async Task An_upstream_body_with_an_unpaired_surrogate_or_invalid_UTF_8_gets_502_not_a_500(string path)
    {
        using var response = await _gateway.Client.GetAsync(path);

        await Problem.AssertAsync(response, HttpStatusCode.BadGateway, "invalid_response_body");
    }

    [Fact]
    public async Task Fields_are_removed_inside_arrays_unless_the_caller_has_the_role_and_the_length_is_corrected()
    {
        using var bob = await GetAsync("/filtered/order", "bob");
        Assert.Equal(HttpStatusCode.OK, bob.StatusCode);
        var text = await bob.Content.ReadAsStringAsync();
        Assert.Equal("""{"id":7,"items":[{"sku":"a"},{"sku":"b"}]}""", text);
        Assert.Equal(Encoding.UTF8.GetByteCount(text), bob.Content.Headers.ContentLength);
        Assert.Equal("yes", bob.Headers.GetValues("X-Filtered").Single());

        // The upstream was asked for an uncompressed body, whatever the client accepts.
        Assert.Equal("identity", bob.Headers.GetValues("X-Seen-Accept-Encoding").Single());

        // Alice has the role: she sees the costs; /internal is removed for everyone.
        using var alice = await GetAsync("/filtered/order", "alice");
        var json = JsonNode.Parse(await alice.Content.ReadAsStringAsync())!;
        Assert.Equal(3, (int)json["items"]![0]!["cost"]!);
        Assert.Null(json["internal"]);

        // Anonymous callers have no role.
        using var anonymous = await GetAsync("/public/order");
        Assert.Equal("""{"id":7,"items":[{"sku":"a"},{"sku":"b"}]}""", await anonymous.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_cached_route_stores_the_transformed_body_and_never_serves_one_callers_view_to_another()
    {
        const string Filtered = """{"id":7,"items":[{"sku":"a"},{"sku":"b"}]}""";

        // Per-caller cache: alice's entry keeps the costs her role lets her see, bob's never has them.
        using var alice = await GetAsync("/cached-filtered/order", "alice");
        Assert.Equal("miss", alice.Headers.GetValues("X-Cache").Single());
        Assert.Equal(3, (int)JsonNode.Parse(await alice.Content.ReadAsStringAsync())!["items"]![0]!["cost"]!);
        using var bob = await GetAsync("/cached-filtered/order", "bob");
        Assert.Equal("miss", bob.Headers.GetValues("X-Cache").Single());
        Assert.Equal(Filtered, await bob.Content.ReadAsStringAsync());
        using var bobAgain = await GetAsync("/cached-filtered/order", "bob");
        Assert.Equal("hit", bobAgain.Headers.GetValues("X-Cache").Single());
        Assert.Equal(Filtered, await bobAgain.Content.ReadAsStringAsync());
        using var aliceAgain = await GetAsync("/cached-filtered/order", "alice");
        Assert.Equal("hit", aliceAgain.Headers.GetValues("X-Cache").Single());
        Assert.Equal(3, (int)JsonNode.Parse(await aliceAgain.Content.ReadAsStringAsync())!["items"]![0]!["cost"]!);

        // Shared cache: the hit is the transformed body with its own length, never the upstream's.
        (await GetAsync("/cached-public/order")).Dispose();
        using var hit = await GetAsync("/cached-public/order");
        Assert.Equal("hit", hit.Headers.GetValues("X-Cache").Single());
        var text = await hit.Content.ReadAsStringAsync();
        Assert.Equal(Filtered, text);
        Assert.Equal(Encoding.UTF8.GetByteCount(text), hit.Content.Headers.ContentLength);
        Assert.Equal("yes", hit.Headers.GetValues("X-Filtered").Single());
    }

    [Fact]
    public async Task A_compressed_or_non_json_body_is_refused_with_502_and_never_passed_on()
    {
        using var gzip = await GetAsync("/public/gzip");
        await Problem.AssertAsync(gzip, HttpStatusCode.BadGateway, "response_body_encoded");
        Assert.False(gzip.Content.Headers.Contains("Content-Encoding"));
        Assert.False(gzip.Headers.Contains("X-Filtered"));

        using var html = await GetAsync("/public/html");
        await Problem.AssertAsync(html, HttpStatusCode.BadGateway, "invalid_response_body");
        Assert.DoesNotContain("secret", await html.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        using var empty = await GetAsync("/public/empty");
        Assert.Equal(HttpStatusCode.NoContent, empty.StatusCode);
    }

    [Fact]
    public async Task A_route_without_body_transforms_streams_the_upstreams_body_and_encoding_untouched()
    {
        using var plain = await GetAsync("/plain/order");
        Assert.Equal(Order, await plain.Content.ReadAsStringAsync());
        Assert.Equal("gzip, br", plain.Headers.GetValues("X-Seen-Accept-Encoding").Single());
    }

    [Fact]
    public async Task An_upstream_error_page_becomes_problem_json_with_the_same_status_and_none_of_its_body()
    {
        using var html = await GetAsync("/problems/html");
        var problem = await Problem.AssertAsync(html, HttpStatusCode.InternalServerError, "upstream_error");
        Assert.Equal("The upstream answered 500 Internal Server Error.", problem.GetProperty("detail").GetString());
        Assert.DoesNotContain("secret", problem.ToString(), StringComparison.Ordinal);

        // A status outside the set, and a success, pass (the success through the route's other body transform).
        using var ok = await GetAsync("/problems/order");
        Assert.Equal("""{"id":7,"items":[{"sku":"a","cost":3},{"sku":"b","cost":4}]}""", await ok.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_success_is_wrapped_in_an_envelope_with_the_request_id_time_total_and_links_without_the_upstreams_host()
    {
        using var response = await GetAsync("/enveloped/page");
        var json = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("""[{"id":1}]""", json["data"]!.ToJsonString());
        var meta = json["meta"]!;
        Assert.False(string.IsNullOrEmpty((string?)meta["requestId"]));
        Assert.True(DateTimeOffset.TryParse((string)meta["timestamp"]!, System.Globalization.CultureInfo.InvariantCulture, out _));
        Assert.Equal(42, (long)meta["totalCount"]!);
        Assert.Equal("/orders?page=3", (string)meta["links"]!["next"]!);
        Assert.Equal("/orders?page=1", (string)meta["links"]!["prev"]!);
    }

    [Fact]
    public async Task A_pointer_that_is_not_one_rejects_the_row()
    {
        var rejected = await _gateway.RejectedReasonsAsync();
        Assert.Contains("is not a JSON Pointer", rejected["bad-pointer"], StringComparison.Ordinal);
    }
}
