using FuncGateway.Model;

namespace FuncGateway.Core.Tests.Routing;

public sealed class HostPatternTests
{
    [Theory]
    [InlineData("api.example.com")]
    [InlineData("api.example.com:8443")]
    [InlineData("*.example.com")]
    [InlineData("*.example.com:443")]
    [InlineData("*")]
    [InlineData("*:8080")]
    [InlineData("[::1]")]
    [InlineData("[::1]:5000")]
    [InlineData("localhost")]
    public void Valid_patterns_parse(string pattern)
    {
        Assert.True(HostPattern.TryParse(pattern, out var host, out var error), error);
        Assert.Equal(pattern, host.Text);
    }

    [Theory]
    [InlineData(null, "Host is empty; use a host name such as 'api.example.com' or '*.example.com'.")]
    [InlineData(" ", "Host is empty; use a host name such as 'api.example.com' or '*.example.com'.")]
    [InlineData("https://api.example.com", "Host 'https://api.example.com' must be a host name with an optional port, such as 'api.example.com' or '*.example.com:8443', without a scheme or path.")]
    [InlineData("api.example.com/v1", "Host 'api.example.com/v1' must be a host name with an optional port, such as 'api.example.com' or '*.example.com:8443', without a scheme or path.")]
    [InlineData("api.*.com", "Host 'api.*.com': '*' is only allowed as the whole first label, as in '*.example.com'.")]
    [InlineData("*api.example.com", "Host '*api.example.com': '*' is only allowed as the whole first label, as in '*.example.com'.")]
    [InlineData("api.example.com:https", "Host 'api.example.com:https': port 'https' is not a number between 1 and 65535.")]
    [InlineData("api.example.com:0", "Host 'api.example.com:0': port '0' is not a number between 1 and 65535.")]
    [InlineData("api.example.com:70000", "Host 'api.example.com:70000': port '70000' is not a number between 1 and 65535.")]
    [InlineData("api.example.com:", "Host 'api.example.com:': port '' is not a number between 1 and 65535.")]
    [InlineData(":8080", "Host ':8080' has no host name; use '*:8080' to match any host on that port.")]
    [InlineData("::1", "Host '::1' is not valid; write IPv6 addresses in brackets, such as '[::1]:8080'.")]
    public void Invalid_patterns_are_rejected_with_a_reason(string? pattern, string expectedError)
    {
        Assert.False(HostPattern.TryParse(pattern, out var host, out var error));
        Assert.Null(host);
        Assert.Equal(expectedError, error);
    }
}
