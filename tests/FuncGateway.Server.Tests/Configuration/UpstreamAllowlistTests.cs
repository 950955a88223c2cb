using System.Net;
using FuncGateway.Server.Tests.Infrastructure;
using FuncGateway.Testing;

namespace FuncGateway.Server.Tests.Configuration;

/// <summary>
/// FuncGateway:Forwarding:AllowedUpstreams (the SSRF guard) through the real server: rows pointing elsewhere, or at a
/// metadata address whatever the list says, are rejected and listed at /_gateway/rejected; allowed ones serve.
/// </summary>
[Collection("Azurite")]
public sealed class UpstreamAllowlistTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task Rows_pointing_outside_the_list_or_at_metadata_are_rejected_with_their_reason_and_allowed_ones_serve()
    {
        await using var echo = await TestUpstream.StartAsync("echo");
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString, new Dictionary<string, string?>
        {
            ["FuncGateway:Forwarding:AllowedUpstreams"] = "127.0.0.1, localhost, 169.254.0.0/16",
        });
        await gateway.UpsertRouteAsync("direct", "/direct", echo.BaseAddress.ToString());
        await gateway.UpsertRouteAsync("by-name", "/by-name", $"http://localhost:{echo.BaseAddress.Port}");
        await gateway.UpsertRouteAsync("elsewhere", "/elsewhere", "http://10.0.0.1:8080");
        await gateway.UpsertRouteAsync("imds", "/imds", "http://169.254.169.254/latest");
        await gateway.UpsertUpstreamAsync("cloud", new Uri("http://metadata.google.internal"));
        await gateway.UpsertRouteAsync("via-cloud", "/via-cloud", "cloud");
        await gateway.ReloadAsync();

        Assert.Equal("echo", (await Echo.ReadAsync(await gateway.Client.GetAsync("/direct"))).Instance);
        Assert.Equal("echo", (await Echo.ReadAsync(await gateway.Client.GetAsync("/by-name"))).Instance);
        foreach (var path in new[] { "/elsewhere", "/imds", "/via-cloud" })
        {
            await Problem.AssertAsync(await gateway.Client.GetAsync(path), HttpStatusCode.NotFound, "route_not_found");
        }

        var rejected = (await gateway.AdminGetAsync("rejected")).GetProperty("rejected").EnumerateArray()
            .ToDictionary(r => r.GetProperty("rowKey").GetString()!, r => string.Join(" ", r.GetProperty("errors").EnumerateArray().Select(e => e.GetString())));
        Assert.Equal(["cloud", "elsewhere", "imds", "via-cloud"], rejected.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("Upstream '10.0.0.1:8080' is not in FuncGateway:Forwarding:AllowedUpstreams (127.0.0.1,localhost,169.254.0.0/16).", rejected["elsewhere"]);
        Assert.StartsWith("Upstream '169.254.169.254' is a link-local or cloud metadata address", rejected["imds"], StringComparison.Ordinal);
        Assert.StartsWith("Instance 'metadata.google.internal' is a link-local or cloud metadata address", rejected["cloud"], StringComparison.Ordinal);
        Assert.Contains("Upstream pool 'cloud' exists but was rejected", rejected["via-cloud"], StringComparison.Ordinal);
    }
}
