using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using FuncGateway.Model;
using FuncGateway.Transforms;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using static FuncGateway.Core.Tests.Configuration.RegistryRows;

namespace FuncGateway.Core.Tests.Transforms;

/// <summary>
/// Request body transforms: what the pointer operations do to a document, what the step forwards (and refuses), that
/// a body validation already buffered is not read again, and the checks made when a route is loaded.
/// </summary>
public sealed class RequestBodyTransformTests
{
    private static JsonPointer Pointer(string text) => JsonPointer.Parse(text, out _) ?? throw new InvalidOperationException(text);

    private static CompiledRoute Compile(string transforms, string path = "/orders/{id}")
    {
        var snapshot = TransformFormatTests.Build(Route("r", path, "http://10.0.0.1", ("Transforms", transforms)));
        Assert.Empty(snapshot.Rejected);
        return Assert.Single(snapshot.Routes);
    }

    private static (DefaultHttpContext Context, GatewayRequestFeature Feature) Request(CompiledRoute route, string? body, string contentType = "application/json", string query = "")
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "POST";
        context.Request.Path = "/orders/7";
        context.Request.QueryString = new QueryString(query);
        if (body is not null)
        {
            var bytes = Encoding.UTF8.GetBytes(body);
            context.Request.Body = new MemoryStream(bytes);
            context.Request.ContentLength = bytes.Length;
            context.Request.ContentType = contentType;
        }

        context.Response.Body = new MemoryStream();
        var feature = new GatewayRequestFeature(route, new RouteValueDictionary { ["id"] = "7" });
        context.Features.Set(feature);
        return (context, feature);
    }

    private static async Task<(bool Continued, string? Forwarded, DefaultHttpContext Context)> RunAsync(string transforms, string? body, string contentType = "application/json", string query = "")
    {
        var route = Compile(transforms);
        var (context, feature) = Request(route, body, contentType, query);
        var step = new RequestBodyStep(Options.Create(new GatewayOptions()), NullLogger<RequestBodyStep>.Instance);
        Assert.True(step.AppliesTo(route));
        var continued = await step.InvokeAsync(context, feature);
        string? forwarded = null;
        if (continued && context.Request.Body is { } stream)
        {
            forwarded = await new StreamReader(stream).ReadToEndAsync();
            Assert.Equal(Encoding.UTF8.GetByteCount(forwarded), context.Request.ContentLength);
        }

        return (continued, forwarded, context);
    }

    private static string ProblemCode(HttpContext context)
    {
        context.Response.Body.Position = 0;
        return JsonDocument.Parse(context.Response.Body).RootElement.GetProperty("code").GetString()!;
    }

    [Theory]
    [InlineData("/a/b", """{"a":{"c":1,"b":2},"x":[1,2]}""")]
    [InlineData("/new/deep", """{"a":{"c":1},"x":[1,2],"new":{"deep":2}}""")]
    [InlineData("/x/0", """{"a":{"c":1},"x":[2,2]}""")]
    [InlineData("/x/5", """{"a":{"c":1},"x":[1,2]}""")]
    [InlineData("/x/0/y", """{"a":{"c":1},"x":[1,2]}""")]
    public void A_move_takes_one_value_and_puts_it_where_the_target_points_creating_objects(string to, string expected)
    {
        var document = JsonNode.Parse("""{"a":{"b":2,"c":1},"x":[1,2]}""");
        Assert.True(Pointer("/a/b").TryTake(document, out var value));
        Pointer(to).Set(document, () => value, onlyIfMissing: false);
        Assert.Equal(expected, document!.ToJsonString());
    }

    [Fact]
    public void A_default_fills_only_missing_or_null_values_in_every_element_and_never_invents_an_array()
    {
        var document = JsonNode.Parse("""{"lines":[{"q":2},{"q":null},{},3]}""");
        Pointer("/lines/*/q").Set(document, () => JsonValue.Create(1), onlyIfMissing: true);
        Assert.Equal("""{"lines":[{"q":2},{"q":1},{"q":1},3]}""", document!.ToJsonString());

        var empty = JsonNode.Parse("{}");
        Assert.False(Pointer("/lines/*/q").Set(empty, () => JsonValue.Create(1), onlyIfMissing: true));
        Assert.Equal("{}", empty!.ToJsonString());
    }

    [Fact]
    public async Task The_step_moves_defaults_and_removes_in_list_order_and_forwards_the_exact_bytes()
    {
        var (continued, forwarded, _) = await RunAsync(
            """[{"RequestBodyMove":"/name","To":"/customer/name"},{"RequestBodyDefault":"/currency","Value":"\"EUR\""},{"RequestBodyRemove":"/debug"}]""",
            """{"name":"Ada","currency":null,"debug":true}""");
        Assert.True(continued);
        Assert.Equal("""{"currency":"EUR","customer":{"name":"Ada"}}""", forwarded);
    }

    [Fact]
    public async Task A_liquid_template_sees_the_body_route_values_and_query_and_its_output_must_be_json()
    {
        var template = """[{"RequestBodyTemplate":"{\"id\": {{ route.id | json }}, \"n\": {{ body.items.size }}, \"q\": {{ query.q | json }}, \"user\": {{ user.id | json }}}"}]""";
        var (continued, forwarded, _) = await RunAsync(template, """{"items":[1,2,3]}""", query: "?q=shoes");
        Assert.True(continued);
        Assert.Equal("""{"id":"7","n":3,"q":"shoes","user":null}""", forwarded);

        var (refused, _, context) = await RunAsync("""[{"RequestBodyTemplate":"{{ body.name }}"}]""", """{"name":"not json"}""");
        Assert.False(refused);
        Assert.Equal(400, context.Response.StatusCode);
        Assert.Equal("request_transform_failed", ProblemCode(context));
    }

    [Theory]
    [InlineData("[{% for i in (1..1000000) %}{{ i }},{% endfor %}0]", """{"n":0}""")]
    [InlineData("{{ 1 | divided_by: body.n }}", """{"n":0}""")]
    public async Task A_template_that_runs_too_long_or_fails_on_a_value_fails_for_that_request_only(string template, string body)
    {
        var (continued, _, context) = await RunAsync($$"""[{"RequestBodyTemplate":"{{template}}"}]""", body);
        Assert.False(continued);
        Assert.Equal(400, context.Response.StatusCode);
        Assert.Equal("request_transform_failed", ProblemCode(context));
    }

    [Theory]
    [InlineData("{not json", "application/json", 400, "invalid_request_body")]
    [InlineData("a=1", "application/x-www-form-urlencoded", 400, "invalid_request_body")]
    public async Task A_body_that_is_not_json_is_refused(string body, string contentType, int status, string code)
    {
        var (continued, _, context) = await RunAsync("""[{"RequestBodyRemove":"/a"}]""", body, contentType);
        Assert.False(continued);
        Assert.Equal(status, context.Response.StatusCode);
        Assert.Equal(code, ProblemCode(context));
    }

    [Fact]
    public async Task A_compressed_body_is_refused_with_415()
    {
        var route = Compile("""[{"RequestBodyRemove":"/a"}]""");
        var (context, feature) = Request(route, "{}");
        context.Request.Headers.ContentEncoding = "gzip";
        var step = new RequestBodyStep(Options.Create(new GatewayOptions()), NullLogger<RequestBodyStep>.Instance);
        Assert.False(await step.InvokeAsync(context, feature));
        Assert.Equal(415, context.Response.StatusCode);
        Assert.Equal("request_body_encoded", ProblemCode(context));
    }

    [Fact]
    public async Task A_body_an_earlier_step_buffered_is_not_read_again()
    {
        var route = Compile("""[{"RequestBodyRemove":"/a"}]""");
        var (context, feature) = Request(route, null);
        var buffered = Encoding.UTF8.GetBytes("""{"a":1,"b":2}""");
        feature.BufferedRequestBody = buffered;
        context.Request.ContentLength = buffered.Length;
        context.Request.Body = new ReadOnceStream();

        var step = new RequestBodyStep(Options.Create(new GatewayOptions()), NullLogger<RequestBodyStep>.Instance);
        Assert.True(await step.InvokeAsync(context, feature));
        Assert.Equal("""{"b":2}""", await new StreamReader(context.Request.Body).ReadToEndAsync());
    }

    [Fact]
    public async Task A_body_over_the_limit_gets_413()
    {
        var route = Compile("""[{"RequestBodyRemove":"/a"}]""");
        var (context, feature) = Request(route, """{"a":"0123456789"}""");
        var options = new GatewayOptions();
        options.Forwarding.MaxRequestBodySizeBytes = 10;
        Assert.False(await new RequestBodyStep(Options.Create(options), NullLogger<RequestBodyStep>.Instance).InvokeAsync(context, feature));
        Assert.Equal(413, context.Response.StatusCode);
    }

    [Fact]
    public async Task A_soap_route_gives_a_request_without_a_body_its_envelope_but_never_a_websocket_upgrade()
    {
        const string Soap = """[{"SoapOperation":"List","Namespace":"urn:x"}]""";
        var (continued, forwarded, context) = await RunAsync(Soap, null);
        Assert.True(continued);
        Assert.Contains("<List xmlns=\"urn:x\" />", forwarded, StringComparison.Ordinal);
        Assert.True(context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestBodyDetectionFeature>()!.CanHaveBody);

        var route = Compile(Soap);
        var (upgrade, _) = Request(route, null);
        var tunnel = new GatewayRequestFeature(route, []) { IsTunnel = true };
        Assert.True(await new RequestBodyStep(Options.Create(new GatewayOptions()), NullLogger<RequestBodyStep>.Instance).InvokeAsync(upgrade, tunnel));
        Assert.Null(tunnel.TransformedRequestBody);
    }

    [Fact]
    public void Routes_without_request_body_transforms_skip_the_step()
    {
        var step = new RequestBodyStep(Options.Create(new GatewayOptions()), NullLogger<RequestBodyStep>.Instance);
        Assert.False(step.AppliesTo(Compile("""[{"RequestHeader":"X-A","Set":"1"},{"ResponseBodyRemove":"/a"}]""")));
    }

    [Theory]
    [InlineData("""[{"RequestBodyMove":"/a/*/b","To":"/c"}]""", "may not use '*'")]
    [InlineData("""[{"RequestBodyMove":"/a"}]""", "needs 'To'")]
    [InlineData("""[{"RequestBodyDefault":"/a","Value":"EUR"}]""", "is not JSON text")]
    [InlineData("""[{"RequestBodyDefault":"/a/*"}]""", "must end with a member name")]
    [InlineData("""[{"RequestBodyRemove":"a"}]""", "is not a JSON Pointer to a member")]
    [InlineData("""[{"RequestBodyTemplate":"{% for %}"}]""", "the Liquid template does not parse")]
    [InlineData("""[{"RequestJsonToXml":"1order"}]""", "is not an XML element name")]
    [InlineData("""[{"RequestJsonToXml":"order","Namespace":"not a uri"}]""", "is not an absolute URI")]
    [InlineData("""[{"RequestJsonToXml":"order"},{"RequestBodyRemove":"/a"}]""", "must come before Transforms[0]")]
    [InlineData("""[{"RequestJsonToXml":"order"},{"SoapOperation":"Get","Namespace":"urn:x"}]""", "in one format only")]
    [InlineData("""[{"SoapOperation":"Get"}]""", "needs 'Namespace'")]
    [InlineData("""[{"SoapOperation":"Get","Namespace":"urn:x","Version":"1.3"}]""", "is not 1.1 or 1.2")]
    [InlineData("""[{"SoapOperation":"Get","Namespace":"urn:x","Action":"a\"b"}]""", "Action must be visible ASCII without quotes")]
    [InlineData("""[{"ResponseXmlToJson":"sometimes"}]""", "must be 'always' or 'negotiate'")]
    [InlineData("""[{"ResponseXmlToJson":"always","OmitRoot":"yes"}]""", "OmitRoot must be 'true' or 'false'")]
    [InlineData("""[{"ResponseBodyRemove":"/a"},{"ResponseXmlToJson":"always"}]""", "must come before the JSON body operations")]
    [InlineData("""[{"ResponseJsonToXml":"order"},{"ResponseBodyRemove":"/a"}]""", "must come before Transforms[0]")]
    [InlineData("""[{"ResponseXmlToJson":"always"},{"ResponseJsonToXml":"order"}]""", "is converted once")]
    [InlineData("""[{"ResponseBodyTemplate":"{{ "}]""", "the Liquid template does not parse")]
    public void A_bad_body_transform_rejects_the_row_with_the_reason(string transforms, string reason)
    {
        var errors = new List<string>();
        Assert.Null(TransformsProperties.Parse(transforms, errors));
        Assert.Contains(errors, e => e.Contains(reason, StringComparison.Ordinal));
    }

    /// <summary>A client body that fails the test if anything reads it.</summary>
    private sealed class ReadOnceStream : MemoryStream
    {
        public override int Read(byte[] buffer, int offset, int count) => throw new InvalidOperationException("read again");

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => throw new InvalidOperationException("read again");
    }
}
