using System.Net;
using FuncGateway.Server.Tests.Infrastructure;
using FuncGateway.Testing;

namespace FuncGateway.Server.Tests.Forwarding;

/// <summary>
/// Loop detection (RFC 8586 <c>CDN-Loop</c>) through the real server: a route whose upstream is the gateway itself
/// ends with <c>508 loop_detected</c> after ten hops instead of re-entering the gateway until connections or timeouts
/// run out; a client's own list is kept and counted; a transform cannot remove the header.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class ForwardingLoopTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private TestUpstream _echo = null!;
    private GatewayHost _gateway = null!;

    public async Task InitializeAsync()
    {
        _echo = await TestUpstream.StartAsync("echo");
        _gateway = await GatewayHost.StartAsync(azurite.ConnectionString);
        await _gateway.UpsertRouteAsync("api", "/api/{**rest}", _echo.BaseAddress.ToString());

        // An operator's mistake: the route's upstream is the gateway's own address, so every request comes back.
        await _gateway.UpsertRouteAsync("self", "/self/{**rest}", _gateway.Client.BaseAddress!.ToString());
        await _gateway.ReloadAsync();
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _echo.DisposeAsync();
    }

    [Fact]
    public async Task A_route_that_leads_back_to_the_gateway_ends_with_508_after_ten_hops()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));

        // Before: each hop opened another request to the gateway until the client's timeout; nothing answered.
        using var response = await _gateway.Client.GetAsync("/self/orders", cts.Token);

        await Problem.AssertAsync(response, HttpStatusCode.LoopDetected, "loop_detected");
        Assert.Equal(0, _echo.RequestCount);
    }

    [Fact]
    public async Task The_upstream_gets_the_clients_list_with_the_gateway_appended()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/orders");
        request.Headers.TryAddWithoutValidation("CDN-Loop", "cloudflare; a=b");

        using var response = await _gateway.Client.SendAsync(request);

        var echo = await Echo.ReadAsync(response);
        Assert.Equal("cloudflare; a=b, FuncGateway", string.Join(", ", echo.Header("CDN-Loop")));
    }

    [Fact]
    public async Task A_request_that_names_the_gateway_nine_times_passes_and_ten_times_is_refused_before_the_upstream()
    {
        using var nine = new HttpRequestMessage(HttpMethod.Get, "/api/orders");
        nine.Headers.TryAddWithoutValidation("CDN-Loop", string.Join(", ", Enumerable.Repeat("FuncGateway", 4)) + ", other");
        nine.Headers.TryAddWithoutValidation("CDN-Loop", string.Join(", ", Enumerable.Repeat("funcgateway;hop=1", 5)));
        using var passed = await _gateway.Client.SendAsync(nine);
        var echo = await Echo.ReadAsync(passed);
        Assert.Equal(10, string.Join(",", echo.Header("CDN-Loop")).Split(',').Count(e => e.Split(';')[0].Trim().Equals("FuncGateway", StringComparison.OrdinalIgnoreCase)));

        var before = _echo.RequestCount;
        using var ten = new HttpRequestMessage(HttpMethod.Get, "/api/orders");
        ten.Headers.TryAddWithoutValidation("CDN-Loop", string.Join(", ", Enumerable.Repeat("FuncGateway", 10)));
        using var refused = await _gateway.Client.SendAsync(ten);

        await Problem.AssertAsync(refused, HttpStatusCode.LoopDetected, "loop_detected");
        Assert.Equal(before, _echo.RequestCount);
    }

    [Fact]
    public async Task A_transform_that_touches_CDN_Loop_rejects_its_row()
    {
        await _gateway.UpsertRouteAsync("strip", "/strip/{**rest}", _echo.BaseAddress.ToString(), ("Transforms", """[{"RequestHeaderRemove":"CDN-Loop"}]"""));
        await _gateway.ReloadAsync();

        using var response = await _gateway.Client.GetAsync("/strip/x");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("loop detection", (await _gateway.RejectedReasonsAsync())["strip"], StringComparison.Ordinal);
    }
}
