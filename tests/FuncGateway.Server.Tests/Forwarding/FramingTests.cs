using System.Net;
using FuncGateway.Server.Tests.Infrastructure;
using FuncGateway.Testing;

namespace FuncGateway.Server.Tests.Forwarding;

/// <summary>
/// Request smuggling hygiene, with the exact bytes on the wire: framing two parsers could read differently is refused
/// with 400 before anything goes upstream, and the client connection is closed after it; a body that turns out
/// malformed after its head went upstream takes that upstream connection down with it.
/// </summary>
[Collection("Azurite")]
public sealed class FramingTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    private TestUpstream _echo = null!;
    private GatewayHost _gateway = null!;

    private Uri Gateway => _gateway.Client.BaseAddress!;

    public async Task InitializeAsync()
    {
        _echo = await TestUpstream.StartAsync("echo");
        _gateway = await GatewayHost.StartAsync(azurite.ConnectionString);
        await _gateway.UpsertRouteAsync("api", "/api/{**rest}", _echo.BaseAddress.ToString());
        await _gateway.ReloadAsync();
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _echo.DisposeAsync();
    }

    [Theory]
    [InlineData("POST /api/x HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n5\r\nhello\r\n0\r\n\r\n", "invalid_framing", "Transfer-Encoding and Content-Length")]
    [InlineData("POST /api/x HTTP/1.1\r\nHost: gw\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", "invalid_framing", "Transfer-Encoding and Content-Length")]
    [InlineData("POST /api/x HTTP/1.0\r\nHost: gw\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", "invalid_framing", "HTTP/1.0")]
    [InlineData("POST /api/x HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: gzip, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", "invalid_framing", "single 'chunked'")]
    [InlineData("POST /api/x HTTP/1.1\r\nHost: gw\r\nContent-Length: +5\r\n\r\nhello", "invalid_framing", "plain digits")]
    [InlineData("POST /api/x HTTP/1.1\r\nHost: gw\r\nX-A: 1\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", "invalid_framing", "bare LF")]
    [InlineData("GET /api/x HTTP/1.1\r\nHost: gw\r\nX(bad): 1\r\n\r\n", "invalid_header_name", "X(bad)")]
    [InlineData("GET /api/x HTTP/1.1\r\nHost: gw\r\nX-Na\"me: 1\r\n\r\n", "invalid_header_name", "X-Na\"me")]
    public async Task Ambiguous_framing_is_refused_with_400_before_anything_goes_upstream_and_the_connection_closes(string request, string code, string detail)
    {
        using var cts = new CancellationTokenSource(Deadline);
        await using var client = await RawHttpClient.ConnectAsync(Gateway);
        await client.SendAsync(request, cts.Token);

        var response = await client.ReadResponseAsync(cts.Token);

        var problem = response.AssertProblem(400, code);
        Assert.Contains(detail, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal("close", response.Header("Connection"));
        Assert.True(await client.Reader.WaitForCloseAsync(cts.Token), "the connection is closed after the refusal");
        Assert.Equal(0, _echo.RequestCount);
    }

    [Fact]
    public async Task Chunk_extensions_up_to_4096_bytes_pass_and_longer_ones_get_400()
    {
        using var cts = new CancellationTokenSource(Deadline);
        const string Head = "POST /api/ext HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\n\r\n";

        // The extension is everything between the chunk size and the line end: ";" and 4095 more bytes here.
        var longest = await RawHttpClient.ExchangeAsync(Gateway, Head + "5;" + new string('a', 4095) + "\r\nhello\r\n0;b=\"c\"\r\n\r\n", cts.Token);
        Assert.Equal(200, longest.Status);
        Assert.Equal("hello", new Echo(System.Text.Json.JsonDocument.Parse(longest.Body).RootElement).Body);

        await using var client = await RawHttpClient.ConnectAsync(Gateway);
        await client.SendAsync(Head + "5;" + new string('a', 4096) + "\r\nhello\r\n0\r\n\r\n", cts.Token);
        var refused = await client.ReadResponseAsync(cts.Token);

        var problem = refused.AssertProblem(400, "invalid_framing");
        Assert.Contains("4096 bytes", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal("close", refused.Header("Connection"));
        Assert.True(await client.Reader.WaitForCloseAsync(cts.Token), "the connection is closed after the refusal");
    }

    [Fact]
    public async Task Keep_alive_and_pipelined_requests_with_every_framing_still_pass_unchanged()
    {
        using var cts = new CancellationTokenSource(Deadline);
        await using var client = await RawHttpClient.ConnectAsync(Gateway);

        // One write, five requests: no body, a fixed body, a chunked body with extensions and a trailer, a fixed body again, a body of 0.
        await client.SendAsync(
            "GET /api/one HTTP/1.1\r\nHost: gw\r\n\r\n" +
            "POST /api/two HTTP/1.1\r\nHost: gw\r\nContent-Length: 11\r\n\r\nhello world" +
            "POST /api/three HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\n\r\n3;x=1\r\nabc\r\nA;name=\"quoted;value\"\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n" +
            "POST /api/four HTTP/1.1\r\nHost: gw\r\nContent-Length: 4\r\n\r\nfour" +
            "PUT /api/five HTTP/1.1\r\nHost: gw\r\nContent-Length: 0\r\n\r\n",
            cts.Token);

        (string Path, string Body)[] expected = [("/api/one", ""), ("/api/two", "hello world"), ("/api/three", "abc0123456789"), ("/api/four", "four"), ("/api/five", "")];
        foreach (var (path, body) in expected)
        {
            var response = await client.ReadResponseAsync(cts.Token);
            Assert.True(response.Status == 200, $"{path}: {response.Status} {response.Text}");
            var echo = new Echo(System.Text.Json.JsonDocument.Parse(response.Body).RootElement);
            Assert.Equal(path, echo.Path);
            Assert.Equal(body, echo.Body);
        }
    }

    [Theory]
    [InlineData("FFFFFFFFFFFFFFFFF1\r\nabc\r\n0\r\n\r\n")] // a chunk size that overflows
    [InlineData("3\r\nabc\r\n0\r\nX-Trailer: {0}\r\n\r\n")] // trailers over the header limit
    public async Task A_chunked_body_the_server_cannot_read_is_invalid_framing_and_the_connection_closes(string body)
    {
        using var cts = new CancellationTokenSource(Deadline);
        await using var client = await RawHttpClient.ConnectAsync(Gateway);
        await client.SendAsync("POST /api/x HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\n\r\n" + string.Format(body, new string('t', 40_000)), cts.Token);

        var response = await client.ReadResponseAsync(cts.Token);

        response.AssertProblem(400, "invalid_framing");
        Assert.Equal("close", response.Header("Connection"));
        Assert.True(await client.Reader.WaitForCloseAsync(cts.Token), "the connection is closed after the refusal");
    }

    [Fact]
    public async Task A_chunked_body_that_turns_malformed_after_its_head_went_upstream_takes_that_upstream_connection_down()
    {
        using var cts = new CancellationTokenSource(Deadline);
        var firstChunk = new string('x', 100_000);

        // Reads the upload's head and whatever body comes, never answering it; answers anything else.
        await using var upstream = RawUpstream.Start(async (connection, ct) =>
        {
            while (await connection.Reader.ReadHeadAsync(ct) is { } head)
            {
                if (head.StartsWith("POST", StringComparison.Ordinal))
                {
                    await connection.Reader.ReadToEndAsync(ct);
                    return;
                }

                await connection.OkAsync($"answered on connection {connection.Id}", ct);
            }
        });
        await _gateway.UpsertRouteAsync("raw", "/raw/{**rest}", upstream.BaseAddress.ToString(), ("TimeoutSeconds", 5.0));
        await _gateway.ReloadAsync();

        await using var client = await RawHttpClient.ConnectAsync(Gateway);
        await client.SendAsync($"POST /raw/upload HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\n\r\n{firstChunk.Length:x}\r\n{firstChunk}\r\n", cts.Token);
        while (upstream.Connections.Count == 0 || !upstream.Connections[0].ReceivedText.Contains(firstChunk[..60_000], StringComparison.Ordinal))
        {
            await Task.Delay(50, cts.Token); // the head and the first chunk are at the upstream
        }

        await client.SendAsync("zz\r\nnot a chunk\r\n0\r\n\r\n", cts.Token);
        var refused = await client.ReadResponseAsync(cts.Token);

        refused.AssertProblem(400, "invalid_framing");
        await upstream.Connections[0].Closed.Task.WaitAsync(cts.Token); // the truncated message's connection is closed, not pooled

        using var next = await _gateway.Client.GetAsync("/raw/next", cts.Token);
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
        Assert.Equal("answered on connection 2", await next.Content.ReadAsStringAsync(cts.Token));
        Assert.DoesNotContain("/raw/next", upstream.Connections[0].ReceivedText, StringComparison.Ordinal);
        Assert.DoesNotContain("not a chunk", upstream.Connections[0].ReceivedText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_clients_Trailer_header_does_not_reach_the_upstream()
    {
        using var cts = new CancellationTokenSource(Deadline);
        var response = await RawHttpClient.ExchangeAsync(Gateway,
            "POST /api/trailer HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n\r\n5\r\nhello\r\n0\r\nX-Checksum: 1\r\n\r\n", cts.Token);

        Assert.Equal(200, response.Status);
        var echo = new Echo(System.Text.Json.JsonDocument.Parse(response.Body).RootElement);
        Assert.Equal("hello", echo.Body);
        Assert.Empty(echo.Header("Trailer"));
        Assert.Empty(echo.Header("X-Checksum"));
    }

    [Fact]
    public async Task Headers_the_upstream_names_in_its_Connection_header_do_not_reach_the_client()
    {
        using var cts = new CancellationTokenSource(Deadline);
        await using var upstream = RawUpstream.Start(async (connection, ct) =>
        {
            while (await connection.Reader.ReadHeadAsync(ct) is not null)
            {
                await connection.WriteAsync(
                    "HTTP/1.1 200 OK\r\nConnection: keep-alive, X-Internal-Token, x-debug-route\r\nX-Internal-Token: s3cret\r\n" +
                    "X-Debug-Route: pool-7\r\nX-Public: visible\r\nContent-Length: 2\r\n\r\nok", ct);
            }
        });
        await _gateway.UpsertRouteAsync("hop", "/hop/{**rest}", upstream.BaseAddress.ToString());
        await _gateway.ReloadAsync();

        using var response = await _gateway.Client.GetAsync("/hop/x", cts.Token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("ok", await response.Content.ReadAsStringAsync(cts.Token));
        Assert.Equal(["visible"], response.Headers.GetValues("X-Public"));
        Assert.False(response.Headers.Contains("X-Internal-Token"));
        Assert.False(response.Headers.Contains("X-Debug-Route"));
        Assert.DoesNotContain(response.Headers.Connection, t => t.StartsWith("X-", StringComparison.OrdinalIgnoreCase));
    }
    [Theory]
    [InlineData("Content-Length: 0\r\n\r\n")]
    [InlineData("Content-Length: 5\r\n\r\nhello")]
    public async Task A_204_from_the_upstream_with_a_content_length_reaches_the_client_as_204_without_one(string rest)
    {
        using var cts = new CancellationTokenSource(Deadline);
        await using var upstream = RawUpstream.Start(async (connection, ct) =>
        {
            while (await connection.Reader.ReadHeadAsync(ct) is { } head)
            {
                await connection.WriteAsync(head.Contains("/empty/", StringComparison.Ordinal) ? "HTTP/1.1 204 No Content\r\n" + rest : "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", ct);
            }
        });
        await _gateway.UpsertRouteAsync("empty", "/empty/{**rest}", upstream.BaseAddress.ToString());
        await _gateway.UpsertRouteAsync("after", "/after/{**rest}", upstream.BaseAddress.ToString());
        await _gateway.ReloadAsync();

        await using var client = await RawHttpClient.ConnectAsync(Gateway);
        await client.SendAsync("DELETE /empty/1 HTTP/1.1\r\nHost: gw\r\n\r\n", cts.Token);
        var empty = await client.ReadResponseAsync(cts.Token);
        await client.SendAsync("GET /after/1 HTTP/1.1\r\nHost: gw\r\n\r\n", cts.Token);
        var after = await client.ReadResponseAsync(cts.Token);

        // RFC 9110 §8.6: no Content-Length in a 204; an upstream that sends one anyway must not cost the client its answer.
        Assert.Equal(204, empty.Status);
        Assert.Null(empty.Header("Content-Length"));
        Assert.NotNull(empty.Header("X-Request-Id"));
        Assert.Equal(200, after.Status);
        Assert.Equal("ok", after.Text);
    }
    [Theory]
    [InlineData("CONNECT 127.0.0.1:80 HTTP/1.1\r\nHost: 127.0.0.1:80\r\n\r\n")]
    [InlineData("CONNECT /api/x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")]
    public async Task A_connect_request_is_refused_with_501_before_any_upstream(string request)
    {
        using var cts = new CancellationTokenSource(Deadline);

        // A CONNECT's authority-form target is matched as the empty path, by a catch-all route. The gateway is no forward
        // proxy: it tried to forward it, failed before sending anything, and answered 502 upstream_error, blaming the upstream.
        await _gateway.UpsertRouteAsync("root", "/{**rest}", _echo.BaseAddress.ToString(), ("Priority", -1));
        await _gateway.ReloadAsync();

        await using var client = await RawHttpClient.ConnectAsync(Gateway);
        await client.SendAsync(request, cts.Token);
        var refused = await client.ReadResponseAsync(cts.Token);

        refused.AssertProblem(501, "method_not_implemented");
        Assert.Equal("close", refused.Header("Connection"));
        Assert.True(await client.Reader.WaitForCloseAsync(cts.Token), "the connection is closed after the refusal");
        Assert.Equal(0, _echo.RequestCount);
    }
}
