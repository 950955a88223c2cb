using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using FuncGateway.Authentication.Basic;
using FuncGateway.Server.Tests.Infrastructure;
using FuncGateway.Testing;

namespace FuncGateway.Server.Tests.Transforms;

/// <summary>
/// Request JSON body transforms through the real server, a real Kestrel upstream and Azurite: fields moved, defaulted
/// and removed, a whole document mapped with Liquid (body, route values, query, caller, request id), the upstream
/// receiving the new body with its exact Content-Length; bodies the gateway cannot transform refused before anything
/// reaches the upstream; a validated and transformed route reading the body once.
/// </summary>
[Collection("Azurite")]
public sealed class RequestBodyTransformsTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private const string Mapping = """
        [{"RequestBodyMove":"/customer/name","To":"/client/fullName"},
         {"RequestBodyDefault":"/currency","Value":"\"EUR\""},
         {"RequestBodyDefault":"/lines/*/quantity","Value":"1"},
         {"RequestBodyRemove":"/lines/*/internalNote"},
         {"RequestBodyRemove":"/debug"}]
        """;

    private const string Template = """
        [{"RequestBodyTemplate":"{\"orderId\": {{ route.id | json }}, \"customer\": {{ body.customer.name | json }}, \"lines\": [{% for l in body.lines %}{% unless forloop.first %},{% endunless %}{\"sku\": {{ l.sku | json }}, \"qty\": {{ l.quantity | default: 1 }}}{% endfor %}], \"channel\": {{ query.channel | json }}, \"placedBy\": {{ user.id | json }}, \"requestId\": {{ requestId | json }}}"}]
        """;

    private TestUpstream _echo = null!;
    private GatewayHost _gateway = null!;

    public async Task InitializeAsync()
    {
        _echo = await TestUpstream.StartAsync("echo");
        _gateway = await GatewayHost.StartAsync(azurite.ConnectionString, new Dictionary<string, string?>
        {
            ["FuncGateway:Auth:Policies:staff:Type"] = "Basic",
            ["FuncGateway:Auth:Policies:staff:Users:alice"] = PasswordHash.Create("pw", PasswordHash.MinimumIterations).ToString(),
        });
        var upstream = _echo.BaseAddress.ToString();
        await _gateway.UpsertRouteAsync("mapped", "/mapped", upstream, ("Transforms", Mapping));
        await _gateway.UpsertRouteAsync("templated", "/orders/{id}", upstream, ("Auth", "staff"), ("Transforms", Template));
        await _gateway.UpsertRouteAsync("small", "/small", upstream, ("Transforms", Mapping), ("Validation", """{"maxBodyBytes":40}"""));
        await _gateway.UpsertSchemaAsync("named", """{"type":"object","required":["customer"]}""");
        await _gateway.UpsertRouteAsync("validated", "/validated", upstream, ("Transforms", Mapping), ("Validation", """{"schema":"named"}"""));
        await _gateway.UpsertRouteAsync("bad-template", "/bad", upstream, ("Transforms", """[{"RequestBodyTemplate":"{% if %}"}]"""));
        await _gateway.UpsertRouteAsync("repeated-default", "/repeated-default", upstream, ("Transforms", """[{"RequestBodyDefault":"/x","Value":"{\"a\":1,\"a\":2}"}]"""));
        await _gateway.UpsertRouteAsync("plain-json", "/plain-json", upstream, ("Transforms", """[{"RequestBodyTemplate":"{{ body.name }}"}]"""));
        await _gateway.ReloadAsync();
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _echo.DisposeAsync();
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    [Fact]
    public async Task Fields_are_moved_defaulted_and_removed_and_the_upstream_gets_the_exact_length()
    {
        using var response = await _gateway.Client.PostAsync("/mapped", Json("""
            {"customer":{"name":"Ada","id":3},"lines":[{"sku":"a","internalNote":"x"},{"sku":"b","quantity":5}],"debug":true}
            """));

        var echo = await Echo.ReadAsync(response);
        Assert.Equal("""{"customer":{"id":3},"lines":[{"sku":"a","quantity":1},{"sku":"b","quantity":5}],"client":{"fullName":"Ada"},"currency":"EUR"}""", echo.Body);
        Assert.Equal(Encoding.UTF8.GetByteCount(echo.Body), echo.BodyLength);
        Assert.Equal([echo.BodyLength.ToString(System.Globalization.CultureInfo.InvariantCulture)], echo.Header("Content-Length"));
        Assert.StartsWith("application/json", echo.Header("Content-Type").Single(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_liquid_template_maps_the_document_with_route_values_query_caller_and_request_id()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/orders/42?channel=web")
        {
            Content = Json("""{"customer":{"name":"Ada \"The\" Countess"},"lines":[{"sku":"a","quantity":2},{"sku":"b"}]}"""),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("alice:pw")));
        using var response = await _gateway.Client.SendAsync(request);

        var echo = await Echo.ReadAsync(response);
        var body = JsonNode.Parse(echo.Body)!;
        Assert.Equal("42", (string?)body["orderId"]);
        Assert.Equal("Ada \"The\" Countess", (string?)body["customer"]);
        Assert.Equal("""[{"sku":"a","qty":2},{"sku":"b","qty":1}]""", body["lines"]!.ToJsonString());
        Assert.Equal("web", (string?)body["channel"]);
        Assert.Equal("alice", (string?)body["placedBy"]);
        Assert.Equal(echo.Header("X-Request-Id").Single(), (string?)body["requestId"]);
    }

    [Theory]
    [InlineData("/mapped")]
    [InlineData("/orders/7")]
    public async Task Bodies_with_invalid_UTF_8_or_an_unpaired_surrogate_get_400_and_never_reach_the_upstream(string path)
    {
        var before = _echo.RequestCount;
        var invalidUtf8 = new ByteArrayContent([.. "{\"customer\":{\"name\":\""u8, 0xFF, 0xFE, .. "\"}}"u8]);
        invalidUtf8.Headers.ContentType = new MediaTypeHeaderValue("application/json");

        using var unpaired = await SendAsync(path, Json("""{"customer":{"name":"\ud800"},"lines":[{"sku":"\udc00x"}]}"""));
        using var notUtf8 = await SendAsync(path, invalidUtf8);

        Assert.Equal(HttpStatusCode.BadRequest, unpaired.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, notUtf8.StatusCode);
        await Problem.AssertAsync(notUtf8, HttpStatusCode.BadRequest, "invalid_request_body");
        Assert.Equal(before, _echo.RequestCount);
    }

    [Theory]
    [InlineData("/mapped")]
    [InlineData("/orders/7")]
    public async Task A_body_that_repeats_a_member_gets_400_invalid_request_body_and_never_reaches_the_upstream(string path)
    {
        // Which "name" counts differs between parsers (the gateway's, a validator's, the upstream's): not JSON to transform.
        var before = _echo.RequestCount;
        using var response = await SendAsync(path, Json("""{"customer":{"name":"Ada","name":"Eve"},"debug":true}"""));

        await Problem.AssertAsync(response, HttpStatusCode.BadRequest, "invalid_request_body");
        Assert.Equal(before, _echo.RequestCount);
    }

    private Task<HttpResponseMessage> SendAsync(string path, HttpContent content)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = content };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("alice:pw")));
        return _gateway.Client.SendAsync(request);
    }

    [Fact]
    public async Task Bodies_that_cannot_be_transformed_are_refused_and_never_reach_the_upstream()
    {
        var before = _echo.RequestCount;

        using var notJson = await _gateway.Client.PostAsync("/mapped", new StringContent("name=Ada", Encoding.UTF8, "application/x-www-form-urlencoded"));
        await Problem.AssertAsync(notJson, HttpStatusCode.BadRequest, "invalid_request_body");

        using var tooLarge = await _gateway.Client.PostAsync("/small", Json("""{"customer":{"name":"a name long enough to pass forty bytes"}}"""));
        await Problem.AssertAsync(tooLarge, HttpStatusCode.RequestEntityTooLarge, "request_too_large");

        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(Encoding.UTF8.GetBytes("""{"customer":{"name":"Ada"}}"""));
        }

        var compressed = new ByteArrayContent(buffer.ToArray());
        compressed.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        compressed.Headers.ContentEncoding.Add("gzip");
        using var encoded = await _gateway.Client.PostAsync("/mapped", compressed);
        await Problem.AssertAsync(encoded, HttpStatusCode.UnsupportedMediaType, "request_body_encoded");

        // The template writes the name without quotes: not JSON, so the request is refused rather than sent broken.
        using var broken = await _gateway.Client.PostAsync("/plain-json", Json("""{"name":"Ada"}"""));
        await Problem.AssertAsync(broken, HttpStatusCode.BadRequest, "request_transform_failed");

        Assert.Equal(before, _echo.RequestCount);
    }

    [Fact]
    public async Task A_validated_route_checks_what_the_client_sent_and_forwards_the_transformed_body()
    {
        // The schema requires "customer", which the mapping moves away: validation sees the client's body.
        using var valid = await _gateway.Client.PostAsync("/validated", Json("""{"customer":{"name":"Ada"}}"""));
        Assert.Equal("""{"customer":{},"client":{"fullName":"Ada"},"currency":"EUR"}""", (await Echo.ReadAsync(valid)).Body);

        using var invalid = await _gateway.Client.PostAsync("/validated", Json("""{"client":{"fullName":"Ada"}}"""));
        await Problem.AssertAsync(invalid, HttpStatusCode.BadRequest, "validation_failed");
    }

    [Fact]
    public async Task Requests_without_a_body_pass_untouched_and_a_bad_template_rejects_its_row()
    {
        using var get = await _gateway.Client.GetAsync("/mapped");
        Assert.Equal(0, (await Echo.ReadAsync(get)).BodyLength);

        var rejected = await _gateway.RejectedReasonsAsync();
        Assert.Contains("Transforms[0] (RequestBodyTemplate", rejected["bad-template"], StringComparison.Ordinal);
        Assert.Contains("the Liquid template does not parse", rejected["bad-template"], StringComparison.Ordinal);

        // A default value that repeats a member would have failed every request that inserts it.
        Assert.Contains("is not JSON text", rejected["repeated-default"], StringComparison.Ordinal);
    }
}
