using System.Net;
using System.Net.WebSockets;
using System.Text;
using FuncGateway.Server.Tests.Infrastructure;
using FuncGateway.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace FuncGateway.Server.Tests.Forwarding;

/// <summary>
/// Protocol upgrades (WebSockets): only on routes that enable them, never with a body, and an upgrade that does not
/// become a tunnel never leaves its upstream connection behind for another request.
/// </summary>
[Collection("Azurite")]
public sealed class UpgradeTests(AzuriteFixture azurite)
{
    private const string Handshake =
        "Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";

    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_refused_upgrade_never_hands_its_upstream_connection_to_the_next_request()
    {
        using var cts = new CancellationTokenSource(Deadline);

        // Answers an upgrade with 426 and then treats the socket as a tunnel: whatever comes next is swallowed, unanswered.
        await using var upstream = RawUpstream.Start(async (connection, ct) =>
        {
            while (await connection.Reader.ReadHeadAsync(ct) is { } head)
            {
                if (head.Contains("Upgrade: websocket", StringComparison.OrdinalIgnoreCase))
                {
                    await connection.WriteAsync("HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\nContent-Length: 0\r\n\r\n", ct);
                    await connection.Reader.ReadToEndAsync(ct);
                    return;
                }

                await connection.OkAsync($"answered on connection {connection.Id}", ct);
            }
        });
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString);
        await gateway.UpsertRouteAsync("chat", "/chat/{**rest}", upstream.BaseAddress.ToString(), ("WebSockets", true), ("TimeoutSeconds", 5.0));
        await gateway.ReloadAsync();

        await using (var attacker = await RawHttpClient.ConnectAsync(gateway.Client.BaseAddress!))
        {
            await attacker.SendAsync("GET /chat/room HTTP/1.1\r\nHost: gateway\r\n" + Handshake.Replace("13", "99", StringComparison.Ordinal) + "\r\n", cts.Token);
            var refused = await attacker.ReadResponseAsync(cts.Token);

            Assert.Equal(426, refused.Status);
            Assert.Equal("close", refused.Header("Connection"));
            Assert.True(await attacker.Reader.WaitForCloseAsync(cts.Token), "the client connection of a failed upgrade is closed");
        }

        using var victim = await gateway.Client.GetAsync("/chat/history", cts.Token);

        Assert.Equal(HttpStatusCode.OK, victim.StatusCode);
        Assert.Equal("answered on connection 2", await victim.Content.ReadAsStringAsync(cts.Token));
        Assert.DoesNotContain("/chat/history", upstream.Connections[0].ReceivedText, StringComparison.Ordinal);
        await upstream.Connections[0].Closed.Task.WaitAsync(cts.Token); // the gateway closed the would-be tunnel
    }

    [Fact]
    public async Task An_upgrade_on_a_route_without_WebSockets_is_refused_before_the_upstream_and_other_upgrade_tokens_are_plain_requests()
    {
        using var cts = new CancellationTokenSource(Deadline);
        await using var upstream = await TestUpstream.StartAsync("echo", cancellationToken: cts.Token);
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString);
        await gateway.UpsertRouteAsync("plain", "/plain/{**rest}", upstream.BaseAddress.ToString());
        await gateway.ReloadAsync();

        var refused = await RawHttpClient.ExchangeAsync(gateway.Client.BaseAddress!, "GET /plain/socket HTTP/1.1\r\nHost: gateway\r\n" + Handshake + "\r\n", cts.Token);

        refused.AssertProblem(400, "upgrade_not_allowed");
        Assert.Equal("close", refused.Header("Connection"));
        Assert.Equal(0, upstream.RequestCount);

        // An h2c upgrade is never forwarded as one: the upstream gets a plain GET without Upgrade or Connection.
        var plain = await RawHttpClient.ExchangeAsync(gateway.Client.BaseAddress!,
            "GET /plain/h2c HTTP/1.1\r\nHost: gateway\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n", cts.Token);

        Assert.Equal(200, plain.Status);
        Assert.Equal("close", plain.Header("Connection"));
        var echo = new Echo(System.Text.Json.JsonDocument.Parse(plain.Body).RootElement);
        Assert.Equal("/plain/h2c", echo.Path);
        Assert.Empty(echo.Header("Upgrade"));
        Assert.Empty(echo.Header("HTTP2-Settings"));
        Assert.Equal(1, upstream.RequestCount);
    }

    [Theory]
    [InlineData("Content-Length: 5\r\n\r\nhello")]
    [InlineData("Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")]
    public async Task An_upgrade_request_with_a_body_is_refused_before_the_upstream(string body)
    {
        using var cts = new CancellationTokenSource(Deadline);
        await using var upstream = await TestUpstream.StartAsync("echo", cancellationToken: cts.Token);
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString);
        await gateway.UpsertRouteAsync("chat", "/chat/{**rest}", upstream.BaseAddress.ToString(), ("WebSockets", true));
        await gateway.ReloadAsync();

        var refused = await RawHttpClient.ExchangeAsync(gateway.Client.BaseAddress!, "GET /chat/room HTTP/1.1\r\nHost: gateway\r\n" + Handshake + body, cts.Token);

        refused.AssertProblem(400, "upgrade_with_body");
        Assert.Equal("close", refused.Header("Connection"));
        Assert.Equal(0, upstream.RequestCount);
    }

    [Fact]
    public async Task A_WebSocket_works_through_a_route_that_enables_WebSockets_and_the_route_still_serves_plain_requests()
    {
        using var cts = new CancellationTokenSource(Deadline);
        await using var upstream = await StartWebSocketEchoAsync(cts.Token);
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString);
        await gateway.UpsertRouteAsync("chat", "/chat/{**rest}", upstream.BaseAddress.ToString(), ("WebSockets", true));
        await gateway.ReloadAsync();

        using var socket = await ConnectAsync(gateway, "/chat/room", cts.Token);
        Assert.Equal("hello", await EchoAsync(socket, "hello", cts.Token));
        Assert.Equal("again", await EchoAsync(socket, "again", cts.Token));
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", cts.Token);

        using var plain = await gateway.Client.GetAsync("/chat/plain", cts.Token);
        Assert.Equal(HttpStatusCode.OK, plain.StatusCode);
        Assert.Equal("plain", await plain.Content.ReadAsStringAsync(cts.Token));
    }

    [Fact]
    public async Task TimeoutSeconds_closes_a_tunnel_idle_that_long_in_both_directions_but_not_one_in_use()
    {
        using var cts = new CancellationTokenSource(Deadline);
        await using var upstream = await StartWebSocketEchoAsync(cts.Token);
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString);
        await gateway.UpsertRouteAsync("chat", "/chat/{**rest}", upstream.BaseAddress.ToString(), ("WebSockets", true), ("TimeoutSeconds", 2.0));
        await gateway.ReloadAsync();
        using var socket = await ConnectAsync(gateway, "/chat/room", cts.Token);

        // In use for twice the timeout, a message every 1/8 of it: the tunnel stays.
        var inUse = TimeProvider.System.GetTimestamp();
        while (TimeProvider.System.GetElapsedTime(inUse) < TimeSpan.FromSeconds(4))
        {
            Assert.Equal("ping", await EchoAsync(socket, "ping", cts.Token));
            await Task.Delay(TimeSpan.FromMilliseconds(250), cts.Token);
        }

        // Then idle: the gateway ends it.
        await Assert.ThrowsAsync<WebSocketException>(() => socket.ReceiveAsync(new byte[16], cts.Token));
    }

    [Fact]
    public async Task Kestrel_Limits_from_configuration_cap_the_open_WebSockets_and_one_over_the_cap_gets_503()
    {
        // Kestrel itself reads only its endpoints from configuration: before, this setting was ignored and every
        // upgrade became a tunnel, however many were open.
        using var cts = new CancellationTokenSource(Deadline);
        await using var upstream = await StartWebSocketEchoAsync(cts.Token);
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString,
            new Dictionary<string, string?> { ["Kestrel:Limits:MaxConcurrentUpgradedConnections"] = "1" });
        await gateway.UpsertRouteAsync("chat", "/chat/{**rest}", upstream.BaseAddress.ToString(), ("WebSockets", true));
        await gateway.ReloadAsync();
        using var open = await ConnectAsync(gateway, "/chat/room", cts.Token);
        Assert.Equal("hello", await EchoAsync(open, "hello", cts.Token));

        var refused = await RawHttpClient.ExchangeAsync(gateway.Client.BaseAddress!, "GET /chat/room HTTP/1.1\r\nHost: gateway\r\n" + Handshake + "\r\n", cts.Token);

        refused.AssertProblem(503, "tunnel_limit_reached");
        Assert.Equal("close", refused.Header("Connection"));
        Assert.Equal("still", await EchoAsync(open, "still", cts.Token));
    }

    [Fact]
    public async Task An_upstream_that_answers_101_to_a_request_not_forwarded_as_an_upgrade_gets_502_and_no_tunnel_opens()
    {
        // The client asks for h2c, which the gateway never forwards (the upstream gets a plain request). Before, when
        // the upstream answered 101 all the same, the client's connection became a tunnel to it, on a route without
        // WebSockets.
        using var cts = new CancellationTokenSource(Deadline);
        await using var upstream = RawUpstream.Start(async (connection, ct) =>
        {
            if (await connection.Reader.ReadHeadAsync(ct) is not null)
            {
                await connection.WriteAsync("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n", ct);
                await connection.Reader.ReadToEndAsync(ct);
            }
        });
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString);
        await gateway.UpsertRouteAsync("plain", "/plain/{**rest}", upstream.BaseAddress.ToString());
        await gateway.ReloadAsync();

        await using var client = await RawHttpClient.ConnectAsync(gateway.Client.BaseAddress!);
        await client.SendAsync("GET /plain/h2c HTTP/1.1\r\nHost: gateway\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n", cts.Token);
        var response = await client.ReadResponseAsync(cts.Token);

        response.AssertProblem(502, "upstream_error");
        Assert.Equal("close", response.Header("Connection"));
        Assert.True(await client.Reader.WaitForCloseAsync(cts.Token), "the client's connection is closed, not tunnelled");
        await upstream.Connections[0].Closed.Task.WaitAsync(cts.Token);
        Assert.DoesNotContain("Upgrade:", upstream.Connections[0].ReceivedText, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_WebSocket_from_an_origin_the_routes_Cors_policy_does_not_admit_is_refused_before_the_upstream()
    {
        // Browsers apply no CORS to WebSockets: any page may open one, with the user's cookies and cached credentials
        // (cross-site WebSocket hijacking). On a route with Cors, the policy's origins are the ones that may.
        using var cts = new CancellationTokenSource(Deadline);
        await using var upstream = await StartWebSocketEchoAsync(cts.Token);
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString, new Dictionary<string, string?>
        {
            ["FuncGateway:Cors:Policies:web:AllowedOrigins"] = "https://app.example.com",
        });
        await gateway.UpsertRouteAsync("chat", "/chat/{**rest}", upstream.BaseAddress.ToString(), ("WebSockets", true), ("Cors", "web"));
        await gateway.ReloadAsync();

        var refused = await RawHttpClient.ExchangeAsync(gateway.Client.BaseAddress!,
            "GET /chat/room HTTP/1.1\r\nHost: gateway\r\nOrigin: https://evil.example\r\n" + Handshake + "\r\n", cts.Token);

        refused.AssertProblem(403, "origin_not_allowed");
        Assert.Equal("close", refused.Header("Connection"));
        Assert.Equal("Origin", refused.Header("Vary"));
        Assert.Equal(0, upstream.RequestCount);

        // The policy's origin, and a client that is no browser (no Origin), get their tunnel.
        using var allowed = new ClientWebSocket();
        allowed.Options.SetRequestHeader("Origin", "https://app.example.com");
        await allowed.ConnectAsync(new Uri(new Uri(gateway.Client.BaseAddress!.ToString().Replace("http://", "ws://", StringComparison.Ordinal)), "/chat/room"), cts.Token);
        Assert.Equal("hello", await EchoAsync(allowed, "hello", cts.Token));
        using var native = await ConnectAsync(gateway, "/chat/room", cts.Token);
        Assert.Equal("again", await EchoAsync(native, "again", cts.Token));
    }

    private static Task<TestUpstream> StartWebSocketEchoAsync(CancellationToken cancellationToken) =>
        TestUpstream.StartAsync("ws-echo", app =>
        {
            app.UseWebSockets();
            app.Respond(async context =>
            {
                if (!context.WebSockets.IsWebSocketRequest)
                {
                    await context.Response.WriteAsync("plain", context.RequestAborted);
                    return;
                }

                using var socket = await context.WebSockets.AcceptWebSocketAsync();
                var buffer = new byte[4096];
                while (true)
                {
                    var message = await socket.ReceiveAsync(buffer, context.RequestAborted);
                    if (message.MessageType == WebSocketMessageType.Close)
                    {
                        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, context.RequestAborted);
                        return;
                    }

                    await socket.SendAsync(buffer.AsMemory(0, message.Count), message.MessageType, message.EndOfMessage, context.RequestAborted);
                }
            });
        }, cancellationToken);

    private static async Task<ClientWebSocket> ConnectAsync(GatewayHost gateway, string path, CancellationToken cancellationToken)
    {
        var socket = new ClientWebSocket();
        socket.Options.KeepAliveInterval = TimeSpan.Zero; // no pings: idle means idle
        await socket.ConnectAsync(new Uri(new Uri(gateway.Client.BaseAddress!.ToString().Replace("http://", "ws://", StringComparison.Ordinal)), path), cancellationToken);
        return socket;
    }

    private static async Task<string> EchoAsync(ClientWebSocket socket, string text, CancellationToken cancellationToken)
    {
        await socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
        var buffer = new byte[4096];
        var message = await socket.ReceiveAsync(buffer, cancellationToken);
        return Encoding.UTF8.GetString(buffer, 0, message.Count);
    }
}
