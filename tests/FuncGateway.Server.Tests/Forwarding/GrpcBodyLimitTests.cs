using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using FuncGateway.Server.Tests.Infrastructure;
using FuncGateway.Server.Tests.RateLimiting;
using FuncGateway.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FuncGateway.Server.Tests.Forwarding;

/// <summary>
/// The body limit holds for a request that says it is gRPC. YARP lifts the server's body limit of an HTTP/2 request
/// with <c>Content-Type: application/grpc</c> once it goes to an upstream over HTTP/2, so such a request needs an
/// HTTP/2 client and an HTTP/2 (TLS) upstream: the gateway runs in its own process, trusting the upstream's
/// certificate through <c>SSL_CERT_FILE</c>, and the client speaks HTTP/2 to it without TLS.
/// </summary>
[Collection("Azurite")]
public sealed class GrpcBodyLimitTests(AzuriteFixture azurite)
{
    private const int Limit = 100_000;
    private const int Sent = 1024 * 1024;

    [Fact]
    public async Task A_body_labelled_gRPC_over_HTTP2_is_held_to_MaxRequestBodySizeBytes_like_any_other()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        using var certificate = CreateCertificate();
        var trust = Path.Combine(Path.GetTempPath(), $"fgw-upstream-{Guid.NewGuid():N}.pem");
        await File.WriteAllTextAsync(trust, certificate.ExportCertificatePem(), cts.Token);
        var received = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var upstream = await StartHttp2UpstreamAsync(certificate, received);
        try
        {
            var prefix = GatewayHost.NewPrefix();
            await using var writer = await GatewayHost.StartAsync(azurite.ConnectionString, prefix: prefix);
            await writer.UpsertRouteAsync("grpc", "/grpc/{**rest}", upstream.Address);
            await using var gateway = await GatewayProcess.StartAsync(new Dictionary<string, string>
            {
                ["FuncGateway:Storage:ConnectionString"] = azurite.ConnectionString,
                ["FuncGateway:Storage:TablePrefix"] = prefix,
                ["FuncGateway:Registry:StartupWaitSeconds"] = "10",
                ["FuncGateway:Forwarding:MaxRequestBodySizeBytes"] = Limit.ToString(System.Globalization.CultureInfo.InvariantCulture),
            }, new Dictionary<string, string> { ["SSL_CERT_FILE"] = trust }, http2: true);

            // The route reaches the upstream over HTTP/2 (a small body goes through).
            using (var small = await gateway.Client.PostAsync("/grpc/Service/Method", Grpc(new ChunkedContent(1000)), cts.Token))
            {
                Assert.True(small.StatusCode == HttpStatusCode.OK, await small.Content.ReadAsStringAsync(cts.Token));
                Assert.Equal("HTTP/2 1000", await small.Content.ReadAsStringAsync(cts.Token));
            }

            received = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
            upstream.Received = received;
            HttpResponseMessage? response = null;
            try
            {
                response = await gateway.Client.PostAsync("/grpc/Service/Method", Grpc(new ChunkedContent(Sent)), cts.Token);
            }
            catch (HttpRequestException)
            {
                // The gateway may reset the stream while the client is still sending.
            }

            // Before the fix the upstream got the whole megabyte and answered 200.
            var upstreamGot = await received.Task.WaitAsync(cts.Token);
            Assert.True(upstreamGot <= Limit, $"the upstream received {upstreamGot} bytes; the limit is {Limit}");
            if (response is not null)
            {
                using (response)
                {
                    Assert.True(response.StatusCode == HttpStatusCode.RequestEntityTooLarge, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(cts.Token)}");
                }
            }
        }
        finally
        {
            File.Delete(trust);
        }
    }

    private static HttpContent Grpc(HttpContent content)
    {
        content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
        return content;
    }

    /// <summary>A self-signed certificate for 127.0.0.1 (its own root), with its key usable by Kestrel.</summary>
    private static X509Certificate2 CreateCertificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, false));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pkcs12), null);
    }

    private static async Task<Http2Upstream> StartHttp2UpstreamAsync(X509Certificate2 certificate, TaskCompletionSource<long> received)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.MaxRequestBodySize = null;
            kestrel.Listen(IPAddress.Loopback, 0, listen =>
            {
                listen.Protocols = HttpProtocols.Http2;
                listen.UseHttps(certificate);
            });
        });
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var upstream = new Http2Upstream(app) { Received = received };

        // Counts what arrives until the body ends or the gateway gives up on it, then answers with the protocol and count.
        app.Run(async context =>
        {
            var buffer = new byte[16 * 1024];
            long total = 0;
            try
            {
                int read;
                while ((read = await context.Request.Body.ReadAsync(buffer, context.RequestAborted)) > 0)
                {
                    total += read;
                }
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException or Microsoft.AspNetCore.Connections.ConnectionAbortedException)
            {
                upstream.Received.TrySetResult(total);
                return;
            }

            upstream.Received.TrySetResult(total);
            await context.Response.WriteAsync($"{context.Request.Protocol} {total}", context.RequestAborted);
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        upstream.Address = address.Replace("[::1]", "127.0.0.1", StringComparison.Ordinal);
        return upstream;
    }

    private sealed class Http2Upstream(WebApplication app) : IAsyncDisposable
    {
        public string Address { get; set; } = "";

        public TaskCompletionSource<long> Received { get; set; } = null!;

        public async ValueTask DisposeAsync()
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    /// <summary>A body of <paramref name="length"/> bytes sent without a Content-Length (a stream, as gRPC sends).</summary>
    private sealed class ChunkedContent(int length) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            var chunk = new byte[16 * 1024];
            for (var sent = 0; sent < length; sent += chunk.Length)
            {
                await stream.WriteAsync(chunk.AsMemory(0, Math.Min(chunk.Length, length - sent)));
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
