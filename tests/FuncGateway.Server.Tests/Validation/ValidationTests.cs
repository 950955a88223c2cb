using System.Net;
using System.Text;
using FuncGateway.Server.Tests.Infrastructure;
using FuncGateway.Testing;
using Microsoft.AspNetCore.Http;

namespace FuncGateway.Server.Tests.Validation;

/// <summary>
/// Request validation through a real gateway on Kestrel, Azurite and a real upstream: a refused request never reaches
/// the upstream, a checked JSON body arrives byte for byte with its exact Content-Length, and routes that do not
/// check bodies keep streaming them.
/// </summary>
[Collection("Azurite")]
public sealed class ValidationTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private const string OrderSchema = """
        {"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object","required":["email","placedAt","id"],
         "properties":{"email":{"type":"string","format":"email"},"placedAt":{"type":"string","format":"date-time"},"id":{"type":"string","format":"uuid"}}}
        """;

    private const string ValidOrder = """{"email":"a@example.com","placedAt":"2026-12-05T10:00:00Z","id":"3f2504e0-4f89-41d3-9a0c-0305e82c3301"}""";

    private TestUpstream _echo = null!;
    private GatewayHost _gateway = null!;

    public async Task InitializeAsync()
    {
        _echo = await TestUpstream.StartAsync("echo");
        _gateway = await GatewayHost.StartAsync(azurite.ConnectionString,
            new Dictionary<string, string?> { ["FuncGateway:Forwarding:MaxRequestBodySizeBytes"] = "1000" });
        var upstream = _echo.BaseAddress.ToString();
        await _gateway.UpsertSchemaAsync("order", OrderSchema);
        await _gateway.UpsertRouteAsync("orders", "/orders", upstream, ("Validation", """{"schema":"order","json":{"maxDepth":4,"maxStringLength":64}}"""));
        await _gateway.UpsertRouteAsync("typed", "/typed", upstream, ("Validation", """{"contentTypes":["application/json","text/plain"]}"""));
        await _gateway.UpsertRouteAsync("small", "/small", upstream, ("Validation", """{"maxBodyBytes":10}"""));
        await _gateway.UpsertRouteAsync("large", "/large", upstream, ("Validation", """{"maxBodyBytes":5000}"""));
        await _gateway.UpsertRouteAsync("search", "/search", upstream,
            ("Validation", """{"query":{"page":{"required":true,"type":"integer"}},"headers":{"X-Request-Id":{"type":"uuid"}},"rejectRepeated":true}"""));
        await _gateway.ReloadAsync();
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _echo.DisposeAsync();
    }

    [Fact]
    public async Task A_body_of_an_unlisted_media_type_gets_415_and_the_upstream_sees_nothing()
    {
        var before = _echo.RequestCount;

        using var refused = await _gateway.Client.PostAsync("/typed", new StringContent("<a/>", Encoding.UTF8, "application/xml"));
        using var accepted = await _gateway.Client.PostAsync("/typed", new StringContent("hello", Encoding.UTF8, "text/plain"));

        var problem = await Problem.AssertAsync(refused, HttpStatusCode.UnsupportedMediaType, "unsupported_media_type");
        Assert.Equal("Accepted: application/json, text/plain.", problem.GetProperty("detail").GetString());
        Assert.Equal("hello", (await Echo.ReadAsync(accepted)).Body);
        Assert.Equal(before + 1, _echo.RequestCount);
    }

    [Fact]
    public async Task A_route_limit_below_the_global_one_refuses_announced_and_chunked_bodies_with_413()
    {
        var before = _echo.RequestCount;
        using var announced = await _gateway.Client.PostAsync("/small", new ByteArrayContent(new byte[11]));
        Assert.Equal(before, _echo.RequestCount);

        // This route streams: a chunked body is cut where it crosses the limit (the upstream's request is aborted).
        var chunked = new StreamContent(new MemoryStream(new byte[500]));
        using var request = new HttpRequestMessage(HttpMethod.Post, "/small") { Content = chunked };
        request.Headers.TransferEncodingChunked = true;
        using var cut = await _gateway.Client.SendAsync(request);

        var problem = await Problem.AssertAsync(announced, HttpStatusCode.RequestEntityTooLarge, "request_too_large");
        Assert.Equal("The limit is 10 bytes.", problem.GetProperty("detail").GetString());
        await Problem.AssertAsync(cut, HttpStatusCode.RequestEntityTooLarge, "request_too_large");
    }

    [Fact]
    public async Task A_route_limit_above_the_global_one_lets_a_larger_body_through_intact()
    {
        var body = new byte[3000];
        Random.Shared.NextBytes(body);

        using var onLargeRoute = await _gateway.Client.PostAsync("/large", new ByteArrayContent(body));
        using var onSmallGlobal = await _gateway.Client.PostAsync("/typed", new ByteArrayContent(body) { Headers = { ContentType = new("text/plain") } });

        var echo = await Echo.ReadAsync(onLargeRoute);
        Assert.Equal(3000, echo.BodyLength);
        Assert.Equal(Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(body)), echo.BodySha256, ignoreCase: true);
        await Problem.AssertAsync(onSmallGlobal, HttpStatusCode.RequestEntityTooLarge, "request_too_large");
    }

    [Fact]
    public async Task A_valid_chunked_JSON_body_reaches_the_upstream_from_the_buffer_with_its_exact_Content_Length()
    {
        var content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(ValidOrder))) { Headers = { ContentType = new("application/json") } };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/orders") { Content = content };
        request.Headers.TransferEncodingChunked = true;

        using var response = await _gateway.Client.SendAsync(request);

        var echo = await Echo.ReadAsync(response);
        Assert.Equal(ValidOrder, echo.Body);
        Assert.Equal([Encoding.UTF8.GetByteCount(ValidOrder).ToString(System.Globalization.CultureInfo.InvariantCulture)], echo.Header("Content-Length"));
        Assert.Empty(echo.Header("Transfer-Encoding"));
    }

    [Fact]
    public async Task An_invalid_JSON_body_gets_400_listing_each_violation_by_JSON_Pointer_and_the_upstream_sees_nothing()
    {
        var before = _echo.RequestCount;

        using var schema = await _gateway.Client.PostAsync("/orders", new StringContent("""{"email":"nope","placedAt":"2026-13-45","id":"x"}""", Encoding.UTF8, "application/json"));
        using var deep = await _gateway.Client.PostAsync("/orders", new StringContent("""{"a":{"b":{"c":{"d":{}}}}}""", Encoding.UTF8, "application/json"));
        using var broken = await _gateway.Client.PostAsync("/orders", new StringContent("""{"email":""", Encoding.UTF8, "application/json"));

        var problem = await Problem.AssertAsync(schema, HttpStatusCode.BadRequest, "validation_failed");
        var locations = problem.GetProperty("violations").EnumerateArray().Select(v => (v.GetProperty("in").GetString(), v.GetProperty("location").GetString())).ToList();
        Assert.Contains(("body", "/email"), locations);
        Assert.Contains(("body", "/placedAt"), locations);
        Assert.Contains(("body", "/id"), locations);
        var depth = await Problem.AssertAsync(deep, HttpStatusCode.BadRequest, "validation_failed");
        Assert.Equal("/a/b/c/d", depth.GetProperty("violations")[0].GetProperty("location").GetString());
        Assert.Equal("maxDepth", depth.GetProperty("violations")[0].GetProperty("rule").GetString());
        var json = await Problem.AssertAsync(broken, HttpStatusCode.BadRequest, "validation_failed");
        Assert.Equal("json", json.GetProperty("violations")[0].GetProperty("rule").GetString());
        Assert.Equal(before, _echo.RequestCount);
    }

    [Theory]
    [InlineData("""{"email":"\ud800","placedAt":"2026-12-05T10:00:00Z","id":"3f2504e0-4f89-41d3-9a0c-0305e82c3301"}""")]
    [InlineData("""{"\ud800":1,"\udbff":2}""")]
    [InlineData(null)]
    public async Task A_body_with_invalid_UTF_8_or_an_unpaired_surrogate_gets_400_json_not_a_500(string? text)
    {
        var before = _echo.RequestCount;
        HttpContent content = text is null
            ? new ByteArrayContent([.. "{\"email\":\""u8, 0xFF, 0xFE, .. "\"}"u8])
            : new StringContent(text, Encoding.UTF8);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");

        using var response = await _gateway.Client.PostAsync("/orders", content);

        var problem = await Problem.AssertAsync(response, HttpStatusCode.BadRequest, "validation_failed");
        Assert.Equal("json", problem.GetProperty("violations")[0].GetProperty("rule").GetString());
        Assert.Equal(before, _echo.RequestCount);
    }

    [Theory]
    [InlineData("application/json; charset=utf-7", true)]
    [InlineData("application/json; charset=iso-8859-1", true)]
    [InlineData("application/json; charset=UTF-8", false)]
    [InlineData("application/json", false)]
    public async Task A_JSON_body_in_another_charset_than_UTF_8_gets_415(string contentType, bool refused)
    {
        var content = new StringContent(ValidOrder);
        content.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse(contentType);

        using var response = await _gateway.Client.PostAsync("/orders", content);

        if (refused)
        {
            await Problem.AssertAsync(response, HttpStatusCode.UnsupportedMediaType, "unsupported_media_type");
        }
        else
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
    }

    [Fact]
    public async Task A_required_query_parameter_must_be_sent_under_its_own_name()
    {
        using var response = await _gateway.Client.GetAsync("/search?PAGE=3");

        var problem = await Problem.AssertAsync(response, HttpStatusCode.BadRequest, "validation_failed");
        var violations = problem.GetProperty("violations").EnumerateArray()
            .Select(v => $"{v.GetProperty("in").GetString()} {v.GetProperty("location").GetString()} {v.GetProperty("rule").GetString()}").ToList();
        Assert.Equal(["query page required"], violations);
    }

    [Fact]
    public async Task Query_and_header_rules_and_repeated_parameters_are_refused_by_name()
    {
        using var bad = new HttpRequestMessage(HttpMethod.Get, "/search?page=two&page=3");
        bad.Headers.Add("X-Request-Id", "not-a-uuid");
        using var refused = await _gateway.Client.SendAsync(bad);
        using var good = new HttpRequestMessage(HttpMethod.Get, "/search?page=3&q=shoes");
        good.Headers.Add("X-Request-Id", "3f2504e0-4f89-41d3-9a0c-0305e82c3301");
        using var accepted = await _gateway.Client.SendAsync(good);

        var problem = await Problem.AssertAsync(refused, HttpStatusCode.BadRequest, "validation_failed");
        var violations = problem.GetProperty("violations").EnumerateArray()
            .Select(v => $"{v.GetProperty("in").GetString()} {v.GetProperty("location").GetString()} {v.GetProperty("rule").GetString()}").ToList();
        Assert.Equal(["query page repeated", "query page type", "header X-Request-Id type"], violations);
        Assert.Equal("?page=3&q=shoes", (await Echo.ReadAsync(accepted)).Query);
    }

    [Fact]
    public async Task A_schema_that_does_not_compile_is_listed_at_rejected_with_the_routes_that_name_it_and_other_routes_keep_working()
    {
        await _gateway.UpsertSchemaAsync("broken", """{"type":"object","properties":{"a":{"$ref":"#/$defs/none"}}}""");
        await _gateway.UpsertRouteAsync("uses-broken", "/broken", _echo.BaseAddress.ToString(), ("Validation", """{"schema":"broken"}"""));
        await _gateway.ReloadAsync();

        var rejected = (await _gateway.AdminGetAsync("rejected")).GetProperty("rejected").EnumerateArray()
            .ToDictionary(r => (r.GetProperty("table").GetString()!, r.GetProperty("rowKey").GetString()!), r => r.GetProperty("errors")[0].GetString()!);
        using var other = await _gateway.Client.PostAsync("/orders", new StringContent(ValidOrder, Encoding.UTF8, "application/json"));
        using var gone = await _gateway.Client.PostAsync("/broken", new StringContent("{}", Encoding.UTF8, "application/json"));

        Assert.Contains("does not resolve inside the schema", rejected[("Schemas", "broken")], StringComparison.Ordinal);
        Assert.Contains("schema 'broken' exists but was rejected", rejected[("Routes", "uses-broken")], StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        await Problem.AssertAsync(gone, HttpStatusCode.NotFound, "route_not_found");
    }

    [Fact]
    public async Task A_schema_row_whose_Schema_is_not_a_string_says_so_rather_than_that_it_is_missing()
    {
        await _gateway.Schemas!.UpsertEntityAsync(new Azure.Data.Tables.TableEntity("default", "numeric") { ["Schema"] = 42 });
        await _gateway.Schemas!.UpsertEntityAsync(new Azure.Data.Tables.TableEntity("default", "absent") { ["Note"] = "x" });
        await _gateway.Schemas!.UpsertEntityAsync(new Azure.Data.Tables.TableEntity("default", "blank") { ["Schema"] = "  " });
        await _gateway.ReloadAsync();

        var rejected = (await _gateway.AdminGetAsync("rejected")).GetProperty("rejected").EnumerateArray()
            .Where(r => r.GetProperty("table").GetString() == "Schemas")
            .ToDictionary(r => r.GetProperty("rowKey").GetString()!, r => r.GetProperty("errors").EnumerateArray().Select(e => e.GetString()!).ToList());
        using var other = await _gateway.Client.PostAsync("/orders", new StringContent(ValidOrder, Encoding.UTF8, "application/json"));

        Assert.Equal(["Schema must be a string, not an Int32."], rejected["numeric"]);
        Assert.Contains("Schema is required.", rejected["absent"]);
        Assert.Equal(["Schema is required and may not be empty."], rejected["blank"]);
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
    }

    [Fact]
    public async Task A_route_that_does_not_check_JSON_bodies_keeps_streaming_them()
    {
        // The upstream answers only once it has seen the first chunk, and the client sends the rest only then:
        // a gateway that buffered this route's body would deadlock.
        var firstBytesAtUpstream = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var sink = await TestUpstream.StartAsync("sink", app => app.Respond(async context =>
        {
            var (length, sha256) = await StreamedBody.ReadAllAsync(context.Request.Body, () => firstBytesAtUpstream.TrySetResult());
            await context.Response.WriteAsync($"{length}:{sha256}");
        }));
        await _gateway.UpsertRouteAsync("upload", "/upload", sink.BaseAddress.ToString(),
            ("Validation", (object)"""{"contentTypes":["application/octet-stream"],"maxBodyBytes":10000000,"query":{"name":{"required":true}}}"""));
        await _gateway.ReloadAsync();

        using var content = new GatedContent(64 * 1024, 20, firstBytesAtUpstream.Task) { Headers = { ContentType = new("application/octet-stream") } };
        using var response = await _gateway.Client.PostAsync("/upload?name=a.bin", content);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal($"{20L * 64 * 1024}:{content.Sha256}", await response.Content.ReadAsStringAsync());
    }
}
