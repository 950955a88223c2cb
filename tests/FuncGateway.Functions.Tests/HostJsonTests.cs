using System.Text.Json;

namespace FuncGateway.Functions.Tests;

/// <summary>The host.json shipped with the app, as the Functions host will read it.</summary>
public sealed class HostJsonTests
{
    [Fact]
    public void Host_json_uses_the_version_2_schema()
    {
        using var hostJson = FunctionsBuildOutput.ReadJson("host.json");

        Assert.Equal("2.0", hostJson.RootElement.GetProperty("version").GetString());
    }

    [Fact]
    public void Gateway_paths_are_public_paths_without_a_route_prefix()
    {
        using var hostJson = FunctionsBuildOutput.ReadJson("host.json");

        Assert.Equal("", Http(hostJson).GetProperty("routePrefix").GetString());
    }

    [Theory]
    [InlineData("customHeaders")]
    [InlineData("hsts")]
    public void The_host_adds_no_headers_of_its_own_to_responses(string setting)
    {
        // Both settings make the host stamp headers on every response, including upstream responses that the
        // gateway must pass through untouched.
        using var hostJson = FunctionsBuildOutput.ReadJson("host.json");

        Assert.False(Http(hostJson).TryGetProperty(setting, out _), $"host.json sets extensions.http.{setting}");
    }

    private static JsonElement Http(JsonDocument hostJson) =>
        hostJson.RootElement.GetProperty("extensions").GetProperty("http");
}
