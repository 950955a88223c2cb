using FuncGateway.Caching;

namespace FuncGateway.Core.Tests.Caching;

public sealed class CacheFormatTests
{
    [Fact]
    public void A_full_definition_reads_and_writes_back()
    {
        var errors = new List<string>();
        const string json = """{"ttlSeconds":30,"shared":false,"query":["page"],"headers":["Accept-Language"],"caller":["userId","clientIp"],"upstreamMaxAge":true,"staleIfErrorSeconds":60,"staleWhileRevalidateSeconds":5}""";
        var definition = CacheFormat.Parse("Cache", json, errors);

        Assert.Empty(errors);
        Assert.Equal((30, false, true, 60, 5), (definition!.TtlSeconds, definition.Shared, definition.UpstreamMaxAge, definition.StaleIfErrorSeconds, definition.StaleWhileRevalidateSeconds));
        Assert.Equal(["page"], definition.Query!);
        Assert.Equal(json, FuncGateway.Model.RegistryJson.ToJson(definition));
    }

    [Theory]
    [InlineData("""{"ttlSeconds":0}""", "ttlSeconds must be between 1")]
    [InlineData("""{}""", "ttlSeconds must be between 1")]
    [InlineData("""{"ttlSeconds":5,"headers":["Cookie"]}""", "may not name Cookie")]
    [InlineData("""{"ttlSeconds":5,"headers":["Bad Name"]}""", "is not a header name")]
    [InlineData("""{"ttlSeconds":5,"caller":["tier"]}""", "needs \"shared\":false")]
    [InlineData("""{"ttlSeconds":5,"caller":["email"]}""", "is not one of")]
    [InlineData("""{"ttlSeconds":5,"staleIfErrorSeconds":-1}""", "staleIfErrorSeconds")]
    [InlineData("""{"ttlSeconds":5,"ttl":3}""", "Cache")]
    [InlineData("""[1]""", "Cache")]
    public void A_definition_that_does_not_hold_is_refused_with_the_reason(string json, string reason)
    {
        var errors = new List<string>();
        Assert.Null(CacheFormat.Parse("Cache", json, errors));
        Assert.Contains(errors, e => e.Contains(reason, StringComparison.Ordinal));
    }
}
