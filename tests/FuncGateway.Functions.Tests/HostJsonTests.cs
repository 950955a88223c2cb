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

    [Fact]
    public void The_host_logs_no_request_urls_with_their_query_strings()
    {
        // The host proxies every request to the worker: at Information its ASP.NET Core logs "Request starting ...
        // ?access_token=..." and its dependency tracking records the proxied call's full URL
        // (Azure/azure-functions-host#11602), so tokens, API keys and signatures in a client's query would end up in
        // Application Insights. The gateway logs requests itself, without credentials.
        using var hostJson = FunctionsBuildOutput.ReadJson("host.json");
        var logging = hostJson.RootElement.GetProperty("logging");

        Assert.Equal("Warning", logging.GetProperty("logLevel").GetProperty("Microsoft.AspNetCore").GetString());
        Assert.False(logging.GetProperty("applicationInsights").GetProperty("enableDependencyTracking").GetBoolean());
    }

    private static JsonElement Http(JsonDocument hostJson) =>
        hostJson.RootElement.GetProperty("extensions").GetProperty("http");
}
