using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace FuncGateway.Functions.EndToEnd.Tests;

/// <summary>
/// What the Functions host's forwarding does to a request before the worker sees it, where a client would notice a
/// difference from <c>FuncGateway.Server</c> (docs/request-hygiene.md, "In the Functions app"). The host receives the
/// client's connection and forwards a request of its own to the worker with YARP's default transformer; the test host
/// forwards the same way, so these tests hold what that does to a request. Each documents a difference the core cannot
/// undo, because the client's raw request line never reaches the worker: if one starts failing, the host's forwarding
/// changed and the documentation must change with it.
/// </summary>
[Collection(FunctionsAppCollectionDefinition.Name)]
public sealed class HostForwardingTests(FunctionsAppFixture app)
{
    [Fact]
    public async Task An_encoded_slash_reaches_the_upstream_encoded_twice()
    {
        // FuncGateway.Server forwards /npm/@types%2Fcors as sent. The host's Kestrel keeps %2F in the path it decodes,
        // and its forwarder encodes that path's '%' again: the worker receives %252F and cannot tell it from a client's
        // own %252F (docs/request-hygiene.md, "Encoded slashes and dot segments").
        var (status, body) = await SendRawAsync("GET /api/npm/@types%2Fcors HTTP/1.1");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("/api/npm/@types%252Fcors", Echo(body).GetProperty("path").GetString());
    }

    [Fact]
    public async Task The_query_reaches_the_upstream_as_the_hosts_forwarder_normalized_it()
    {
        // FuncGateway.Server forwards the query byte for byte. The host's forwarder builds the worker's URL with
        // System.Uri, which decodes escaped unreserved characters (%7e is ~) and encodes characters a URI may not hold.
        var (status, body) = await SendRawAsync("GET /api/presigned?sig=a%7eb&x=%41 HTTP/1.1");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("?sig=a~b&x=A", Echo(body).GetProperty("query").GetString());
    }

    [Fact]
    public async Task Options_asterisk_reaches_the_gateway_as_options_for_the_root()
    {
        // FuncGateway.Server answers OPTIONS * itself (200, Allow). The host routes the asterisk form to the catch-all
        // function with an empty path and forwards it as OPTIONS /: the core sees a request for the root, which no
        // route of this app takes, and so answers 404 (a route for / would get it, as its upstream would).
        var (status, body) = await SendRawAsync("OPTIONS * HTTP/1.1");

        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal("route_not_found", JsonDocument.Parse(body).RootElement.GetProperty("code").GetString());
        var invocation = await app.InvocationForAsync("");
        Assert.True(invocation.Failure is null, invocation.Failure);
    }

    private static JsonElement Echo(string body) => JsonDocument.Parse(body).RootElement;

    /// <summary>Sends <paramref name="requestLine"/> as written (no client library re-encodes it) and reads the answer to the end.</summary>
    private async Task<(HttpStatusCode Status, string Body)> SendRawAsync(string requestLine)
    {
        var address = app.Client.BaseAddress!;
        using var client = new TcpClient();
        await client.ConnectAsync(address.Host, address.Port);
        await using var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"{requestLine}\r\nHost: {address.Authority}\r\nConnection: close\r\n\r\n"));

        // Connection: close, so the answer ends where the connection does.
        using var received = new MemoryStream();
        await stream.CopyToAsync(received);
        var text = Encoding.UTF8.GetString(received.ToArray());
        var headEnd = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        Assert.True(headEnd > 0, "No complete answer: " + text + app.Host.DescribeWorker());
        var head = text[..headEnd];
        var status = (HttpStatusCode)int.Parse(head.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        var body = text[(headEnd + 4)..];
        if (head.Contains("Transfer-Encoding: chunked", StringComparison.OrdinalIgnoreCase))
        {
            body = Dechunk(body);
        }

        return (status, body);
    }

    private static string Dechunk(string chunked)
    {
        var result = new StringBuilder();
        var position = 0;
        while (true)
        {
            var lineEnd = chunked.IndexOf("\r\n", position, StringComparison.Ordinal);
            var size = Convert.ToInt32(chunked[position..lineEnd].Split(';')[0], 16);
            if (size == 0)
            {
                return result.ToString();
            }

            result.Append(chunked, lineEnd + 2, size);
            position = lineEnd + 2 + size + 2;
        }
    }
}
