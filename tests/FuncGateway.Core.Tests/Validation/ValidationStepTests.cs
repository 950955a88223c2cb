using FuncGateway.Concurrency;
using FuncGateway.Model;
using static FuncGateway.Core.Tests.Validation.ValidationTestSupport;

namespace FuncGateway.Core.Tests.Validation;

/// <summary>The validation step on requests in memory: what a client gets back for each rule, and what goes on upstream.</summary>
public class ValidationStepTests
{
    private const string OrderSchema = """
        {"type":"object","required":["email","placedAt","id"],"additionalProperties":false,
         "properties":{"email":{"type":"string","format":"email"},"placedAt":{"type":"string","format":"date-time"},
                       "id":{"type":"string","format":"uuid"},"items":{"type":"array","items":{"type":"object","properties":{"qty":{"type":"integer","minimum":1}}}}}}
        """;

    private const string ValidOrder = """{"email":"a@example.com","placedAt":"2026-12-05T10:00:00Z","id":"3f2504e0-4f89-41d3-9a0c-0305e82c3301","items":[{"qty":2}]}""";

    [Fact]
    public void Validation_runs_after_the_rate_limits_and_before_the_cache_and_the_concurrency_limit()
    {
        // A throttled client never makes the gateway read a body; an invalid request is refused even when an answer is
        // cached; a concurrency slot is never held while one is buffered.
        Assert.True(GatewayStepOrder.RateLimiting.CompareTo(GatewayStepOrder.Validation) < 0);
        Assert.True(GatewayStepOrder.Validation.CompareTo(GatewayStepOrder.Caching) < 0);
        Assert.True(GatewayStepOrder.Validation.CompareTo(ConcurrencyStep.StepOrder) < 0);
    }

    [Fact]
    public async Task A_body_of_a_media_type_the_route_does_not_list_gets_415()
    {
        var route = Compile("""{"contentTypes":["application/json","text/*"]}""");

        var xml = await RunAsync(route, body: "<a/>", contentType: "application/xml");
        var text = await RunAsync(route, body: "hi", contentType: "text/plain; charset=utf-8");
        var none = await RunAsync(route, body: "{}", contentType: null);

        Assert.Equal((false, 415, "unsupported_media_type"), (xml.Continues, xml.Status, xml.Code));
        Assert.True(text.Continues);
        Assert.Equal(415, none.Status);
    }

    [Fact]
    public async Task A_route_that_checks_JSON_accepts_json_and_plus_json_media_types_by_default_and_requests_without_a_body()
    {
        var route = Compile("""{"json":{"maxDepth":3}}""");

        Assert.True((await RunAsync(route, body: "{}", contentType: "application/json; charset=utf-8")).Continues);
        Assert.True((await RunAsync(route, body: "{}", contentType: "application/vnd.orders+json")).Continues);
        Assert.Equal(415, (await RunAsync(route, body: "a=1", contentType: "application/x-www-form-urlencoded")).Status);
        Assert.True((await RunAsync(route, method: "GET")).Continues);
    }

    [Fact]
    public async Task A_route_limit_above_or_below_the_global_one_is_handed_to_forwarding()
    {
        var small = await RunAsync(Compile("""{"maxBodyBytes":10}"""), body: "0123456789abc", contentType: "text/plain");
        var large = await RunAsync(Compile("""{"maxBodyBytes":500000000}"""), body: "x", contentType: "text/plain");

        // Not read here (it streams): forwarding enforces the route's limit instead of the global one.
        Assert.True(small.Continues);
        Assert.Equal(10, small.Feature.MaxRequestBodySizeBytes);
        Assert.Equal(500_000_000, large.Feature.MaxRequestBodySizeBytes);
    }

    [Fact]
    public async Task A_JSON_body_over_the_route_limit_gets_413_without_being_checked()
    {
        var outcome = await RunAsync(Compile("""{"maxBodyBytes":16,"json":{}}"""), body: """{"a":"0123456789"}""");

        Assert.Equal((false, 413, "request_too_large"), (outcome.Continues, outcome.Status, outcome.Code));
        Assert.Equal("The limit is 16 bytes.", outcome.Problem!.Value.GetProperty("detail").GetString());
    }

    [Theory]
    [InlineData("""{"a":{"b":{"c":{}}}}""", "maxDepth", "/a/b/c")]
    [InlineData("""{"a":"0123456789x"}""", "maxStringLength", "/a")]
    [InlineData("""{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6}""", "maxProperties", "")]
    [InlineData("""{"list":[1,2,3,4,5,6]}""", "maxArrayItems", "/list")]
    [InlineData("""{"a":1,"a":2}""", "duplicateMember", "/a")]
    [InlineData("""{"a":1""", "json", "")]
    [InlineData("""{"a":1} trailing""", "json", "")]
    public async Task A_JSON_body_over_a_limit_gets_400_naming_the_rule_and_the_JSON_Pointer(string body, string rule, string location)
    {
        var route = Compile("""{"json":{"maxDepth":3,"maxStringLength":10,"maxProperties":5,"maxArrayItems":5}}""");

        var outcome = await RunAsync(route, body: body);

        Assert.Equal((false, 400, "validation_failed"), (outcome.Continues, outcome.Status, outcome.Code));
        Assert.Contains(("body", location, rule), outcome.Violations);
    }

    [Fact]
    public async Task A_body_that_satisfies_the_schema_goes_on_from_the_buffer_with_its_exact_length()
    {
        var route = Compile("""{"schema":"order"}""", [Schema("order", OrderSchema)]);

        var outcome = await RunAsync(route, body: ValidOrder);

        Assert.True(outcome.Continues);
        Assert.Equal(ValidOrder.Length, outcome.Context.Request.ContentLength);
        Assert.Equal(ValidOrder, outcome.ForwardedBody);
    }

    [Fact]
    public async Task Every_schema_violation_is_listed_with_its_JSON_Pointer_and_formats_are_asserted()
    {
        var route = Compile("""{"schema":"order"}""", [Schema("order", OrderSchema)]);

        var outcome = await RunAsync(route, body: """{"email":"not-an-email","placedAt":"yesterday","id":"123","items":[{"qty":0}],"extra":true}""");

        Assert.Equal(400, outcome.Status);
        var locations = outcome.Violations.Where(v => v.In == "body").Select(v => v.Location).ToHashSet();
        Assert.Superset(new HashSet<string> { "/email", "/placedAt", "/id", "/items/0/qty", "/extra" }, locations);
        Assert.All(outcome.Violations, v => Assert.Equal("schema", v.Rule));
    }

    [Fact]
    public async Task A_schema_route_needs_a_body_on_POST_but_not_on_GET()
    {
        var route = Compile("""{"schema":"order"}""", [Schema("order", OrderSchema)]);

        var post = await RunAsync(route);
        var get = await RunAsync(route, method: "GET");

        Assert.Contains(("body", "", "required"), post.Violations);
        Assert.True(get.Continues);
    }

    [Fact]
    public async Task Query_and_header_rules_report_every_broken_rule_by_name()
    {
        var route = Compile("""
            {"query":{"page":{"required":true,"type":"integer"},"sort":{"pattern":"(name|date)(,(name|date))*"},"id":{"type":"uuid"}},
             "headers":{"X-Tenant":{"required":true,"maxLength":8},"X-Flag":{"type":"boolean"}}}
            """);

        var bad = await RunAsync(route, method: "GET", query: "?sort=price&id=42", headers: [("X-Flag", "yes")]);
        var good = await RunAsync(route, method: "GET", query: "?page=2&sort=name,date&id=3f2504e0-4f89-41d3-9a0c-0305e82c3301", headers: [("X-Tenant", "acme"), ("X-Flag", "true")]);

        Assert.Equal(
            [("query", "page", "required"), ("query", "sort", "pattern"), ("query", "id", "type"), ("header", "X-Tenant", "required"), ("header", "X-Flag", "type")],
            bad.Violations);
        Assert.True(good.Continues);
    }

    [Fact]
    public async Task Repeated_parameters_are_refused_only_where_the_route_says_so()
    {
        var strict = Compile("""{"rejectRepeated":true,"headers":{"X-Tenant":{}}}""");
        var lax = Compile("""{"query":{"role":{}}}""");

        var polluted = await RunAsync(strict, method: "GET", query: "?role=user&role=admin", headers: [("X-Tenant", "a"), ("X-Tenant", "b")]);
        var allowed = await RunAsync(lax, method: "GET", query: "?role=user&role=admin");

        Assert.Equal([("query", "role", "repeated"), ("header", "X-Tenant", "repeated")], polluted.Violations);
        Assert.True(allowed.Continues);
    }

    [Fact]
    public async Task A_violation_never_echoes_long_or_binary_input()
    {
        var route = Compile("""{"rejectRepeated":true,"json":{"maxStringLength":5}}""");
        var longName = new string('n', 5000) + "\u0001\u0002";

        var outcome = await RunAsync(route, query: $"?{longName}=1&{longName}=2", body: "{\"" + new string('k', 3) + "\":\"" + new string('v', 100_000) + "\"}");

        var text = outcome.Problem!.Value.GetRawText();
        Assert.True(text.Length < 2000, $"problem is {text.Length} characters");
        Assert.DoesNotContain("vvvvvvvvvv", text, StringComparison.Ordinal);
        Assert.DoesNotContain("\\u0001", text, StringComparison.Ordinal);
        Assert.Equal(2, outcome.Violations.Length);
    }

    [Fact]
    public async Task A_route_without_Validation_is_left_alone()
    {
        var snapshot = Build([FuncGateway.Core.Tests.Configuration.RegistryRows.Route("plain", "/plain", "http://10.0.0.1")]);

        var outcome = await RunAsync(Assert.Single(snapshot.Routes), body: "<not json>", contentType: "application/json");

        Assert.True(outcome.Continues);
        Assert.Null(outcome.Feature.MaxRequestBodySizeBytes);
    }
}
