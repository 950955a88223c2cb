using FuncGateway.Server.Tests.Infrastructure;
using FuncGateway.Testing;

namespace FuncGateway.Server.Tests.Forwarding;

/// <summary>A client that sends its body slower than the server's minimum request body data rate is cut off with 408.</summary>
[Collection("Azurite")]
public sealed class SlowBodyTests(AzuriteFixture azurite)
{
    [Theory]
    [InlineData("/stream")] // the body streams to the upstream
    [InlineData("/checked")] // the route buffers JSON bodies to check them
    public async Task A_body_announced_and_never_sent_gets_408_request_timeout_not_400(string path)
    {
        // Kestrel's default minimum is 240 bytes/s after a 5 s grace; the client sends 10 of 100000 bytes and stops.
        // Before, the gateway answered 400 bad_request, as for a malformed body.
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var upstream = await TestUpstream.StartAsync("echo", cancellationToken: cts.Token);
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString);
        await gateway.UpsertRouteAsync("stream", "/stream", upstream.BaseAddress.ToString());
        await gateway.UpsertRouteAsync("checked", "/checked", upstream.BaseAddress.ToString(), ("Validation", """{"json":{"maxDepth":4}}"""));
        await gateway.ReloadAsync();

        await using var client = await RawHttpClient.ConnectAsync(gateway.Client.BaseAddress!);
        await client.SendAsync($"POST {path} HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n[1,2,3,4,", cts.Token);
        var response = await client.ReadResponseAsync(cts.Token);

        response.AssertProblem(408, "request_timeout");
        Assert.True(await client.Reader.WaitForCloseAsync(cts.Token), "the connection is closed after it");
    }
}
