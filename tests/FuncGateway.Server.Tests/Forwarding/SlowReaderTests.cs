using FuncGateway.Server.Tests.Infrastructure;
using FuncGateway.Testing;
using Microsoft.AspNetCore.Connections;

namespace FuncGateway.Server.Tests.Forwarding;

/// <summary>A client that reads a response too slowly is cut off, and the upstream request it held is freed.</summary>
[Collection("Azurite")]
public sealed class SlowReaderTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task A_client_reading_a_large_response_at_one_byte_a_second_is_cut_off_and_its_upstream_request_is_cancelled()
    {
        // Without the rate (Kestrel's own 240 bytes/s) this client kept both connections until the route's 100 s
        // inactivity timeout. Kestrel counts the rate over the whole response, so what the loopback socket buffers
        // absorbed at once (some MB) is credit; at 1 MB/s that is a few seconds. The deadline sits far from both.
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(45));
        var upstreamCancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var upstream = await TestUpstream.StartAsync("endless", app => app.Respond(async context =>
        {
            var chunk = new byte[64 * 1024];
            try
            {
                while (true)
                {
                    await context.Response.Body.WriteAsync(chunk, context.RequestAborted);
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or IOException or ConnectionAbortedException)
            {
                upstreamCancelled.TrySetResult();
            }
        }), cts.Token);
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString, new Dictionary<string, string?>
        {
            ["FuncGateway:Forwarding:MinResponseDataRateBytesPerSecond"] = "1048576",
            ["FuncGateway:Forwarding:MinResponseDataRateGraceSeconds"] = "2",
        });
        await gateway.UpsertRouteAsync("download", "/download", upstream.BaseAddress.ToString());
        await gateway.ReloadAsync();

        await using var client = await RawHttpClient.ConnectAsync(gateway.Client.BaseAddress!, receiveBufferSize: 4096);
        await client.SendAsync("GET /download HTTP/1.1\r\nHost: gw\r\n\r\n", cts.Token);
        var head = await client.ReadResponseAsync(cts.Token, headOnly: true);
        Assert.Equal(200, head.Status);

        // One byte a second from now on. The gateway gives up on the client and cancels the upstream request.
        var oneByte = new byte[1];
        while (!upstreamCancelled.Task.IsCompleted && await client.Socket.ReceiveAsync(oneByte, cts.Token) == 1)
        {
            await Task.WhenAny(upstreamCancelled.Task, Task.Delay(TimeSpan.FromSeconds(1), cts.Token));
        }

        await upstreamCancelled.Task.WaitAsync(cts.Token);
        Assert.True(await client.Reader.WaitForCloseAsync(cts.Token), "the slow client's connection is closed");
    }
}
