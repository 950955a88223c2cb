using FuncGateway.FixedResponses;
using FuncGateway.Model;

namespace FuncGateway.Core.Tests.Model;

/// <summary>JSON held in table properties: a member given twice is refused, as registry files refuse it.</summary>
public sealed class RegistryJsonTests
{
    [Theory]
    [InlineData("""{"status":200,"body":"a","body":"b"}""")]
    [InlineData("""{"status":200,"body":"a","Body":"b"}""")]
    public void A_member_given_twice_is_refused_with_the_reason(string json)
    {
        var errors = new List<string>();

        var definition = RegistryJson.ParseObject<FixedResponseDefinition>("FixedResponse", json, "{}", errors);

        Assert.Null(definition);
        Assert.Single(errors);
    }

    [Fact]
    public void A_member_given_once_reads()
    {
        var errors = new List<string>();

        var definition = RegistryJson.ParseObject<FixedResponseDefinition>("FixedResponse", """{"status":200,"body":"a"}""", "{}", errors);

        Assert.Empty(errors);
        Assert.Equal("a", definition!.Body);
    }
}
