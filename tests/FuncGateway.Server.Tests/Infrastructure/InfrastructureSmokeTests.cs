using System.Net;
using System.Security.Cryptography;
using Azure;
using Azure.Data.Tables;
using FuncGateway.Samples.Echo;
using FuncGateway.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace FuncGateway.Server.Tests.Infrastructure;

/// <summary>xunit finds collection definitions only in the test assembly: this declares the shared one here.</summary>
[CollectionDefinition(AzuriteCollection.Name)]
public sealed class AzuriteCollectionDefinition : AzuriteCollection;

/// <summary>The test helpers themselves work: a real Azurite and a real Kestrel echo upstream.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class InfrastructureSmokeTests(AzuriteFixture fixture)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Shared_azurite_stores_and_reads_an_entity()
    {
        using var cts = new CancellationTokenSource(Timeout);
        var table = fixture.CreateTableServiceClient().GetTableClient(AzuriteFixture.UniqueTableName("smoke"));
        await table.CreateAsync(cts.Token);

        await table.UpsertEntityAsync(new TableEntity("p", "r") { ["Value"] = "hello" }, cancellationToken: cts.Token);
        var entity = await table.GetEntityAsync<TableEntity>("p", "r", cancellationToken: cts.Token);

        Assert.Equal("hello", entity.Value.GetString("Value"));
        Assert.StartsWith("DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;", fixture.ConnectionString, StringComparison.Ordinal);
        Assert.Contains($"TableEndpoint=http://127.0.0.1:{fixture.Azurite.Port}/devstoreaccount1;", fixture.ConnectionString, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Azurite_goes_away_on_stop_and_comes_back_empty_on_the_same_port()
    {
        using var cts = new CancellationTokenSource(Timeout);
        await using var azurite = await AzuriteInstance.StartAsync(cts.Token);
        var noRetries = new TableClientOptions { Retry = { MaxRetries = 0, NetworkTimeout = TimeSpan.FromSeconds(5) } };
        var table = azurite.CreateTableServiceClient(noRetries).GetTableClient(AzuriteFixture.UniqueTableName());
        await table.CreateAsync(cts.Token);
        await table.AddEntityAsync(new TableEntity("p", "r"), cts.Token);
        var port = azurite.Port;

        await azurite.StopAsync(cts.Token);

        Assert.False(azurite.IsRunning);
        var outage = await Assert.ThrowsAsync<RequestFailedException>(() => table.GetEntityAsync<TableEntity>("p", "r", cancellationToken: cts.Token));
        Assert.Equal(0, outage.Status); // no HTTP answer at all: a transport failure

        await azurite.RestartAsync(cts.Token);

        Assert.True(azurite.IsRunning);
        Assert.Equal(port, azurite.Port);
        var gone = await Assert.ThrowsAsync<RequestFailedException>(() => table.GetEntityAsync<TableEntity>("p", "r", cancellationToken: cts.Token));
        Assert.Equal((int)HttpStatusCode.NotFound, gone.Status); // in memory: the restart lost the table
        await table.CreateAsync(cts.Token);
        await table.AddEntityAsync(new TableEntity("p", "r"), cts.Token);
    }

    [Fact]
    public async Task Echo_upstream_reports_what_it_received()
    {
        using var cts = new CancellationTokenSource(Timeout);
        await using var upstream = await TestUpstream.StartAsync("echo-a", cancellationToken: cts.Token);
        using var client = new HttpClient { BaseAddress = upstream.BaseAddress };

        Assert.Equal(IPAddress.Loopback.ToString(), upstream.BaseAddress.Host);
        Assert.NotEqual(0, upstream.BaseAddress.Port);

        using var get = new HttpRequestMessage(HttpMethod.Get, "/orders/a%20b?x=1&y=%2F");
        get.Headers.Add("X-Test-Header", "Value-1");
        using var getResponse = await client.SendAsync(get, cts.Token);
        var getEcho = await getResponse.ReadEchoAsync(cts.Token);

        Assert.Equal(HttpStatusCode.OK, getResponse.StatusCode);
        Assert.Equal("echo-a", getEcho.Instance);
        Assert.Equal("echo-a", Assert.Single(getResponse.Headers.GetValues(EchoHandler.InstanceHeaderName)));
        Assert.Equal("GET", getEcho.Method);
        Assert.Equal("/orders/a%20b", getEcho.Path);
        Assert.Equal("?x=1&y=%2F", getEcho.Query);
        Assert.Equal(["Value-1"], getEcho.Headers["x-test-header"]); // names lower-cased, values as sent
        Assert.Equal(0, getEcho.BodyLength);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(ReadOnlySpan<byte>.Empty)), getEcho.BodySha256);

        // Larger than the echoed prefix: length and hash cover the whole body, the text only its first 64 KiB.
        var payload = new byte[200_000];
        for (var i = 0; i < payload.Length; i++)
        {
            payload[i] = (byte)('a' + (i % 26));
        }

        using var postResponse = await client.PostAsync("/upload", new ByteArrayContent(payload), cts.Token);
        var postEcho = await postResponse.ReadEchoAsync(cts.Token);

        Assert.Equal("POST", postEcho.Method);
        Assert.Equal(payload.Length, postEcho.BodyLength);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(payload)), postEcho.BodySha256);
        Assert.Equal(EchoHandler.MaxEchoedBodyBytes, postEcho.Body.Length);
        Assert.StartsWith("abcdefghijklmnopqrstuvwxyzabc", postEcho.Body, StringComparison.Ordinal);
        Assert.Equal(payload.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), Assert.Single(postEcho.Headers["content-length"]));
        Assert.Equal(2, upstream.RequestCount);

        await upstream.StopAsync(cts.Token);

        await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync("/after-stop", cts.Token));
    }

    [Fact]
    public async Task Configured_upstream_serves_its_own_endpoints_and_counts_requests()
    {
        using var cts = new CancellationTokenSource(Timeout);
        await using var upstream = await TestUpstream.StartAsync(
            "custom",
            app => app.Run(context =>
            {
                context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                return Task.CompletedTask;
            }),
            cts.Token);
        using var client = new HttpClient { BaseAddress = upstream.BaseAddress };

        using var first = await client.GetAsync("/anything", cts.Token);
        using var second = await client.DeleteAsync("/else", cts.Token);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, first.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, second.StatusCode);
        Assert.Equal(2, upstream.RequestCount);
        Assert.Equal("custom", upstream.Name);
    }
}
