using FuncGateway.Model;
using static FuncGateway.Core.Tests.Configuration.RegistryRows;
using static FuncGateway.Core.Tests.Validation.ValidationTestSupport;

namespace FuncGateway.Core.Tests.Validation;

/// <summary>The <c>Validation</c> route property and the Schemas table: what a bad value or a bad schema does to the registry.</summary>
public class ValidationFormatTests
{
    [Theory]
    [InlineData("""{"contentTypes":["json"]}""", "contentTypes: 'json' is not a media type")]
    [InlineData("""{"contentTypes":[]}""", "contentTypes is empty")]
    [InlineData("""{"maxBodyBytes":-1}""", "maxBodyBytes -1 is outside")]
    [InlineData("""{"json":{"maxDepth":0}}""", "json.maxDepth 0 is outside 1–256")]
    [InlineData("""{"json":{"maxDepth":1000}}""", "json.maxDepth 1000 is outside 1–256")]
    [InlineData("""{"json":{},"maxBodyBytes":20000000}""", "a route that checks JSON bodies buffers them, up to 16 MiB")]
    [InlineData("""{"query":{"page":{"type":"int"}}}""", "Validation query 'page': unknown type 'int'. Known: string, integer, number, boolean, uuid, date, date-time.")]
    [InlineData("""{"query":{"page":{"pattern":"[0-9"}}}""", "Validation query 'page': pattern is not a valid .NET regular expression")]
    [InlineData("""{"headers":{"X Bad":{"required":true}}}""", "Validation headers 'X Bad': not a valid header name.")]
    [InlineData("""{"headers":{"X-A":{"required":true},"x-a":{"required":false}}}""", "listed twice")]
    [InlineData("""{"injection":{}}""", "Validation injection screens nothing")]
    [InlineData("""{"injection":{"sql":true,"freeText":["comment"]}}""", "'comment' is not a JSON Pointer")]
    [InlineData("""{"maxbody":1}""", "Validation is not valid (expected a JSON object such as")]
    [InlineData("""{"schema":" "}""", "Validation schema is blank")]
    public void A_bad_Validation_value_rejects_the_route_with_its_reason_and_keeps_the_others(string validation, string reason)
    {
        var snapshot = Build([ValidatedRoute("bad", validation), ValidatedRoute("good", """{"maxBodyBytes":10}""")]);

        Assert.Contains(reason, Errors(snapshot, "bad"), StringComparison.Ordinal);
        Assert.Equal("good", Assert.Single(snapshot.Routes).Definition.Id);
    }

    [Fact]
    public void A_Validation_value_round_trips_through_the_registry_format_unchanged()
    {
        const string json = """{"contentTypes":["application/json"],"maxBodyBytes":4096,"json":{"maxDepth":5,"maxStringLength":100,"maxProperties":10,"maxArrayItems":20},"schema":"order","query":{"page":{"required":true,"type":"integer","pattern":"[0-9]{1,3}","maxLength":3}},"headers":{"X-Request-Id":{"type":"uuid"}},"rejectRepeated":true,"injection":{"sql":true,"xss":true,"freeText":["/comment"]}}""";
        var row = ValidatedRoute("r", json);

        var definition = RegistryFormat.ParseRoute(row, [])!;

        Assert.Equal(json, RegistryFormat.ToRow(definition).Properties["Validation"]);
    }

    [Fact]
    public void A_schema_that_does_not_compile_is_rejected_with_its_reason_and_so_are_the_routes_that_name_it()
    {
        var snapshot = Build(
            [ValidatedRoute("uses-bad", """{"schema":"bad"}"""), ValidatedRoute("uses-good", """{"schema":"good"}"""), ValidatedRoute("plain", """{"maxBodyBytes":5}""")],
            [Schema("bad", """{"type":"object","properties":{"a":{"$ref":"#/$defs/missing"}}}"""), Schema("good", """{"type":"object"}""")]);

        Assert.Contains("$ref '#/$defs/missing' does not resolve inside the schema", Errors(snapshot, "bad"), StringComparison.Ordinal);
        Assert.Equal(RegistryTable.Schemas, Assert.Single(snapshot.Rejected, r => r.RowKey == "bad").Table);
        Assert.Contains("schema 'bad' exists but was rejected; fix that schema row first", Errors(snapshot, "uses-bad"), StringComparison.Ordinal);
        Assert.Equal(["plain", "uses-good"], snapshot.Routes.Select(r => r.Definition.Id));
    }

    [Theory]
    [InlineData("""{"type":"object","properties":{"a":{"type":"strin"}}}""", "does not compile")]
    [InlineData("""{"type":""", "is not valid JSON")]
    [InlineData("""[1,2]""", "must be a JSON object (or true/false), not array")]
    [InlineData("""{"$schema":"http://json-schema.org/draft-07/schema#","type":"object"}""", "only draft 2020-12 is supported")]
    [InlineData("""{"$ref":"https://example.com/remote.json"}""", "a schema row must be self-contained")]
    [InlineData("""{"$defs":{"a":{"$anchor":"x","type":"string"}},"$ref":"#x"}""", null)]
    public void A_schema_row_is_rejected_with_a_reason_an_operator_can_act_on(string schema, string? reason)
    {
        var snapshot = Build([], [Schema("s", schema)]);

        if (reason is null)
        {
            Assert.Empty(snapshot.Rejected);
            return;
        }

        Assert.Contains(reason, Errors(snapshot, "s"), StringComparison.Ordinal);
    }

    [Fact]
    public void A_route_naming_a_schema_the_table_does_not_have_is_rejected()
    {
        var snapshot = Build([ValidatedRoute("r", """{"schema":"nope"}""")]);

        Assert.Contains("Validation schema 'nope' is not in the Schemas table.", Errors(snapshot, "r"), StringComparison.Ordinal);
    }

    [Fact]
    public void A_schema_row_needs_a_valid_name_and_only_the_Schema_property()
    {
        var snapshot = Build([], [Row(RegistryTable.Schemas, "default", "bad name", ("Schema", "{}"), ("Other", "x"))]);

        var errors = Errors(snapshot, "bad name");
        Assert.Contains("must be 1–64 letters, digits", errors, StringComparison.Ordinal);
        Assert.Contains("Unknown property 'Other'", errors, StringComparison.Ordinal);
    }

    [Fact]
    public void Changing_a_schema_row_changes_the_snapshot_fingerprint()
    {
        var before = new RegistryContent([], []) { Schemas = [Schema("s", "{}")] };
        var after = new RegistryContent([], []) { Schemas = [Schema("s", "{}")] };

        Assert.NotEqual(FuncGateway.Configuration.SnapshotBuilder.Fingerprint(before), FuncGateway.Configuration.SnapshotBuilder.Fingerprint(after));
    }
}
