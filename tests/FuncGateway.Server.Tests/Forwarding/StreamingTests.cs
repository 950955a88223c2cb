using System.Net;
using System.Security.Cryptography;
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
    private static readonly TimeSpan FirstBytesDeadline = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_100_MB_upload_streams_to_the_upstream_and_arrives_intact()
    {
        var firstBytesAtUpstream = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var upstream = await TestUpstream.StartAsync("sink", app => app.Respond(async context =>
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var buffer = new byte[64 * 1024];
            long total = 0;
            int read;
            while ((read = await context.Request.Body.ReadAsync(buffer)) > 0)
            {
                total += read;
                hash.AppendData(buffer, 0, read);
                firstBytesAtUpstream.TrySetResult();
            }

            await context.Response.WriteAsync($"{total}:{Convert.ToHexString(hash.GetHashAndReset())}");
        }));
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString);
        await gateway.UpsertRouteAsync("upload", "/upload", upstream.BaseAddress.ToString());
        await gateway.ReloadAsync();

        var content = new GatedContent(100, firstBytesAtUpstream.Task);
        using var response = await gateway.Client.PostAsync("/upload", content);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal($"{100L * Chunk}:{content.Sha256}", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_large_download_streams_to_the_client_before_the_upstream_has_finished()
    {
        var clientGotFirstBytes = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var upstream = await TestUpstream.StartAsync("source", app => app.Respond(async context =>
        {
            var chunk = new byte[Chunk];
            await context.Response.Body.WriteAsync(chunk);
            await context.Response.Body.FlushAsync();
            await clientGotFirstBytes.Task.WaitAsync(FirstBytesDeadline);
            for (var i = 1; i < 20; i++)
            {
                await context.Response.Body.WriteAsync(chunk);
            }
        }));
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString);
        await gateway.UpsertRouteAsync("download", "/download", upstream.BaseAddress.ToString());
        await gateway.ReloadAsync();

        using var response = await gateway.Client.GetAsync("/download", HttpCompletionOption.ResponseHeadersRead);
        await using var body = await response.Content.ReadAsStreamAsync();
        var buffer = new byte[64 * 1024];
        long total = 0;
        int read;
        while ((read = await body.ReadAsync(buffer)) > 0)
        {
            total += read;
            clientGotFirstBytes.TrySetResult();
        }

        Assert.Equal(20L * Chunk, total);
    }

    /// <summary>Sends one chunk, waits for the signal that it arrived at the far side, then sends the rest.</summary>
    private sealed class GatedContent(int chunks, Task gate) : HttpContent
    {
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

        public string Sha256 { get; private set; } = "";

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            var chunk = new byte[Chunk];
            for (var i = 0; i < chunks; i++)
            {
                chunk.AsSpan().Fill((byte)i);
                _hash.AppendData(chunk);
                await stream.WriteAsync(chunk);
                if (i == 0)
                {
                    await stream.FlushAsync();
                    await gate.WaitAsync(FirstBytesDeadline);
                }
            }

            Sha256 = Convert.ToHexString(_hash.GetHashAndReset());
        }

        protected override bool TryComputeLength(out long length)
        {
            length = (long)chunks * Chunk;
            return true;
        }

        protected override void Dispose(bool disposing)
        {
            _hash.Dispose();
            base.Dispose(disposing);
        }
    }
}
