using System.Net;
using FuncGateway.Server.Tests.Infrastructure;
using FuncGateway.Testing;
using Microsoft.AspNetCore.Http;

namespace FuncGateway.Server.Tests.Forwarding;

/// <summary>
/// Bodies stream through the gateway in both directions. Each test makes the far side wait for the near side's
/// first bytes before sending the rest: a gateway that buffered whole bodies would deadlock and fail the test.
/// </summary>
[Collection("Azurite")]
public sealed class StreamingTests(AzuriteFixture azurite)
{
    private const int Chunk = 1024 * 1024;

    [Fact]
    public async Task A_100_MB_upload_streams_to_the_upstream_and_arrives_intact()
    {
        var firstBytesAtUpstream = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var upstream = await TestUpstream.StartAsync("sink", app => app.Respond(async context =>
        {
            var (length, sha256) = await StreamedBody.ReadAllAsync(context.Request.Body, () => firstBytesAtUpstream.TrySetResult());
            await context.Response.WriteAsync($"{length}:{sha256}");
        }));
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString);
        await gateway.UpsertRouteAsync("upload", "/upload", upstream.BaseAddress.ToString());
        await gateway.ReloadAsync();

        using var content = new GatedContent(Chunk, 100, firstBytesAtUpstream.Task);
        using var response = await gateway.Client.PostAsync("/upload", content);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal($"{100L * Chunk}:{content.Sha256}", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_large_download_streams_to_the_client_before_the_upstream_has_finished()
    {
        var clientGotFirstBytes = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var upstream = await TestUpstream.StartAsync("source", app => app.Respond(
            context => StreamedBody.WriteGatedAsync(context.Response.Body, Chunk, 20, clientGotFirstBytes.Task)));
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString);
        await gateway.UpsertRouteAsync("download", "/download", upstream.BaseAddress.ToString());
        await gateway.ReloadAsync();

        using var response = await gateway.Client.GetAsync("/download", HttpCompletionOption.ResponseHeadersRead);
        await using var body = await response.Content.ReadAsStreamAsync();
        var (total, _) = await StreamedBody.ReadAllAsync(body, () => clientGotFirstBytes.TrySetResult());

        Assert.Equal(20L * Chunk, total);
    }
}
