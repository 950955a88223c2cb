using System.Text;
using FuncGateway.Server.Tests.Infrastructure;
using FuncGateway.Testing;

namespace FuncGateway.Server.Tests.Forwarding;

/// <summary>
/// The request line and header limits (Kestrel's defaults: 8 KiB, 32 KiB, 100 headers) through the real server: a
/// request over them gets 414 or 431 as problem+json with a stable code, like every other gateway error, where Kestrel
/// alone answers with an empty body; a request at the limit is served (here by the gateway itself: no route takes it,
/// as an upstream has limits of its own).
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class HeadLimitTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private const int RequestLineLimit = 8192;
    private const int HeaderBytesLimit = 32768;
    private const int HeaderCountLimit = 100;
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

    [Fact]
    public async Task A_request_line_over_8_KiB_gets_414_problem_json_and_one_at_the_limit_is_served()
    {
        using var cts = new CancellationTokenSource(Deadline);

        // At the limit: the gateway itself answers (no route; an upstream has limits of its own).
        var atLimit = await RawHttpClient.ExchangeAsync(Gateway, RequestLine("/nowhere/", RequestLineLimit) + "Host: gw\r\n\r\n", cts.Token);
        atLimit.AssertProblem(404, "route_not_found");

        await using var client = await RawHttpClient.ConnectAsync(Gateway);
        await client.SendAsync(RequestLine("/api/", RequestLineLimit + 1) + "Host: gw\r\n\r\n", cts.Token);
        var response = await client.ReadResponseAsync(cts.Token);

        response.AssertProblem(414, "uri_too_long");
        Assert.Equal("close", response.Header("Connection"));
        Assert.True(await client.Reader.WaitForCloseAsync(cts.Token), "the connection is closed after the refusal");
        Assert.Equal(0, _echo.RequestCount);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Headers_over_32_KiB_get_431_problem_json_and_headers_at_the_limit_are_served(bool hostFirst)
    {
        using var cts = new CancellationTokenSource(Deadline);
        const string Host = "Host: gw\r\n";

        // One big header that brings the header lines (CRLFs included) to exactly the limit, with Host before or after.
        var big = "X-Big: " + new string('b', HeaderBytesLimit - Host.Length - "X-Big: \r\n".Length) + "\r\n";
        var atLimit = await RawHttpClient.ExchangeAsync(Gateway, "GET /nowhere HTTP/1.1\r\n" + (hostFirst ? Host + big : big + Host) + "\r\n", cts.Token);
        atLimit.AssertProblem(404, "route_not_found");

        var over = big.Insert(7, "b");
        var response = await RawHttpClient.ExchangeAsync(Gateway, "GET /api/x HTTP/1.1\r\n" + (hostFirst ? Host + over : over + Host) + "\r\n", cts.Token);

        response.AssertProblem(431, "request_headers_too_large");
        Assert.Equal("close", response.Header("Connection"));
        Assert.Equal(0, _echo.RequestCount);
    }

    [Fact]
    public async Task More_than_100_headers_get_431_problem_json_and_100_are_served()
    {
        using var cts = new CancellationTokenSource(Deadline);

        var atLimit = await RawHttpClient.ExchangeAsync(Gateway, "GET /nowhere HTTP/1.1\r\nHost: gw\r\n" + Headers(HeaderCountLimit - 1) + "\r\n", cts.Token);
        atLimit.AssertProblem(404, "route_not_found");

        var response = await RawHttpClient.ExchangeAsync(Gateway, "GET /api/x HTTP/1.1\r\nHost: gw\r\n" + Headers(HeaderCountLimit) + "\r\n", cts.Token);

        response.AssertProblem(431, "request_headers_too_large");
        Assert.Equal(0, _echo.RequestCount);
    }

    /// <summary>A request line for a path under <paramref name="prefix"/> of exactly <paramref name="length"/> bytes, its CRLF included.</summary>
    private static string RequestLine(string prefix, int length)
    {
        const string End = " HTTP/1.1\r\n";
        return "GET " + prefix + new string('a', length - "GET ".Length - prefix.Length - End.Length) + End;
    }

    private static string Headers(int count)
    {
        var headers = new StringBuilder();
        for (var i = 0; i < count; i++)
        {
            headers.Append("X-H").Append(i).Append(": ").Append(i).Append("\r\n");
        }

        return headers.ToString();
    }
}
