using static FuncGateway.Core.Tests.Validation.ValidationTestSupport;

namespace FuncGateway.Core.Tests.Validation;

/// <summary>
/// A JSON body is parsed once and passes a pass/fail check first; only a body that fails is checked again in detail.
/// These pin what the detailed answer must still say after the fast path, and the edges where the two could differ.
/// </summary>
public class JsonBodyCheckTests
{
    private const string NotesSchema = """
        {"type":"object","required":["id","notes"],"additionalProperties":false,
         "properties":{"id":{"type":"string","format":"uuid"},
                       "notes":{"type":"array","items":{"type":"object","required":["qty"],
                                "properties":{"qty":{"type":"integer","minimum":1},"text":{"type":"string"},"title":{"type":"string"}}}}}}
        """;

    private const string Id = "3f2504e0-4f89-41d3-9a0c-0305e82c3301";

    [Fact]
    public async Task A_body_within_every_limit_that_fails_the_schema_lists_each_failing_pointer()
    {
        var route = Compile("""{"json":{"maxDepth":5},"schema":"notes"}""", [Schema("notes", NotesSchema)]);
        var notes = string.Join(",", Enumerable.Range(0, 10).Select(i => i is 3 or 7 ? """{"qty":0}""" : """{"qty":2}"""));

        var outcome = await RunAsync(route, body: $$"""{"id":"not-a-uuid","notes":[{{notes}}],"extra":1}""");

        Assert.Equal((false, 400, "validation_failed"), (outcome.Continues, outcome.Status, outcome.Code));
        var locations = outcome.Violations.Select(v => v.Location).ToHashSet();
        Assert.Superset(new HashSet<string> { "/id", "/notes/3/qty", "/notes/7/qty" }, locations);
        Assert.Subset(new HashSet<string> { "", "/id", "/notes", "/notes/3", "/notes/3/qty", "/notes/7", "/notes/7/qty", "/extra" }, locations);
        Assert.All(outcome.Violations, v => Assert.Equal(("body", "schema"), (v.In, v.Rule)));
    }

    [Fact]
    public async Task A_valid_body_goes_on_and_a_bad_format_alone_is_still_refused()
    {
        var route = Compile("""{"schema":"notes"}""", [Schema("notes", NotesSchema)]);

        var valid = await RunAsync(route, body: $$"""{"id":"{{Id}}","notes":[{"qty":1}]}""");
        var badFormat = await RunAsync(route, body: """{"id":"3f2504e0-zzzz","notes":[{"qty":1}]}""");

        Assert.True(valid.Continues);
        Assert.Contains(("body", "/id", "schema"), badFormat.Violations);
    }

    [Fact]
    public async Task A_member_repeated_under_an_escaped_name_is_a_duplicate()
    {
        var route = Compile("""{"schema":"notes"}""", [Schema("notes", NotesSchema)]);

        var outcome = await RunAsync(route, body: $$"""{"id":"{{Id}}","notes":[{"qty":1,"q\u0074y":5}]}""");

        Assert.Equal(400, outcome.Status);
        Assert.Contains(("body", "/notes/0/qty", "duplicateMember"), outcome.Violations);
    }

    [Theory]
    [InlineData("""{"a":"éééééééééé"}""", null)]
    [InlineData("""{"a":"ééééééééééé"}""", "/a")]
    [InlineData("""{"éééééééééé":1}""", null)]
    [InlineData("""{"ééééééééééé":1}""", "")]
    [InlineData("""{"a":"\u0041\u0041\u0041\u0041\u0041\u0041\u0041\u0041\u0041\u0041"}""", null)]
    public async Task String_limits_count_characters_not_bytes_or_escapes(string body, string? location)
    {
        var route = Compile("""{"json":{"maxStringLength":10}}""");

        var outcome = await RunAsync(route, body: body);

        if (location is null)
        {
            Assert.True(outcome.Continues);
        }
        else
        {
            Assert.Contains(("body", location, "maxStringLength"), outcome.Violations);
        }
    }

    [Fact]
    public async Task Screening_skips_free_text_fields_and_reports_a_match_elsewhere_together_with_schema_errors()
    {
        var route = Compile("""{"schema":"notes","injection":{"sql":true,"freeText":["/notes/*/text"]}}""", [Schema("notes", NotesSchema)]);

        var freeText = await RunAsync(route, body: $$"""{"id":"{{Id}}","notes":[{"qty":1,"text":"' OR '1'='1"}]}""");
        var elsewhere = await RunAsync(route, body: $$"""{"id":"{{Id}}","notes":[{"qty":1},{"qty":0,"title":"' OR '1'='1"}]}""");

        Assert.True(freeText.Continues);
        Assert.Contains(("body", "/notes/1/title", "sqlInjection"), elsewhere.Violations);
        Assert.Contains(("body", "/notes/1/qty", "schema"), elsewhere.Violations);
    }

    [Fact]
    public async Task A_chunked_body_larger_than_the_first_buffer_is_forwarded_intact()
    {
        var route = Compile("""{"schema":"notes"}""", [Schema("notes", NotesSchema)]);
        var notes = string.Join(",", Enumerable.Range(0, 2000).Select(i => $$"""{"qty":{{i + 1}},"text":"note {{i}}"}"""));
        var body = $$"""{"id":"{{Id}}","notes":[{{notes}}]}""";

        var outcome = await RunAsync(route, body: body, chunked: true);

        Assert.True(body.Length > 16 * 1024);
        Assert.True(outcome.Continues);
        Assert.Equal(body.Length, outcome.Context.Request.ContentLength);
        Assert.Equal(body, outcome.ForwardedBody);
    }

    [Fact]
    public async Task A_chunked_body_one_byte_over_the_route_limit_gets_413()
    {
        var route = Compile("""{"maxBodyBytes":20000,"json":{}}""");
        var body = "[" + new string(' ', 20000 - 2) + "]";

        var exact = await RunAsync(route, body: body, chunked: true);
        var over = await RunAsync(route, body: body + " ", chunked: true);

        Assert.True(exact.Continues);
        Assert.Equal((false, 413), (over.Continues, over.Status));
    }
}
