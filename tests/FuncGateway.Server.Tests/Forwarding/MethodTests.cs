using System.Net;
using FuncGateway.Server.Tests.Infrastructure;
using FuncGateway.Testing;

namespace FuncGateway.Server.Tests.Forwarding;

/// <summary>
/// TRACE, OPTIONS, <c>Max-Forwards</c> and <c>OPTIONS *</c> through the real server: what the gateway answers itself,
/// what it forwards, and that a client's credentials are never echoed back (cross-site tracing).
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class MethodTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private const string App = "https://app.example.com";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    private static readonly string[] DefaultAllow = ["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"];

    private TestUpstream _echo = null!;
    private GatewayHost _gateway = null!;

    private Uri Gateway => _gateway.Client.BaseAddress!;

    public async Task InitializeAsync()
    {
        _echo = await TestUpstream.StartAsync("echo");
        _gateway = await GatewayHost.StartAsync(azurite.ConnectionString, new Dictionary<string, string?>
        {
            ["FuncGateway:Cors:Policies:web:AllowedOrigins"] = App,
            ["FuncGateway:Cors:Policies:web:AllowedMethods"] = "GET,PUT",
        });
        var upstream = _echo.BaseAddress.ToString();
        await _gateway.UpsertRouteAsync("api", "/api/{**rest}", upstream);
        await _gateway.UpsertRouteAsync("diag", "/diag/{**rest}", upstream, ("Methods", "GET,TRACE"));
        await _gateway.UpsertRouteAsync("opts", "/opts/{id}", upstream, ("Methods", "PUT,GET,OPTIONS"));
        await _gateway.UpsertRouteAsync("orders", "/orders/{id}", upstream, ("Methods", "GET,PUT"), ("Cors", "web"));
        await _gateway.ReloadAsync();
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _echo.DisposeAsync();
    }

    [Fact]
    public async Task Trace_on_a_route_without_a_Methods_list_is_refused_with_405_and_never_reaches_the_upstream()
    {
        // Forwarded, an upstream that answers TRACE echoes the client's cookies and Authorization back to the page
        // that sent it (cross-site tracing).
        using var request = new HttpRequestMessage(HttpMethod.Trace, "/api/x");
        request.Headers.Add("Cookie", "session=cookie-secret");
        request.Headers.Add("Authorization", "Bearer token-secret");
        using var response = await _gateway.Client.SendAsync(request);

        var problem = await Problem.AssertAsync(response, HttpStatusCode.MethodNotAllowed, "method_not_allowed");
        Assert.Equal(DefaultAllow, response.Content.Headers.Allow.Order(StringComparer.Ordinal));
        Assert.DoesNotContain("secret", problem.ToString(), StringComparison.Ordinal);
        Assert.Equal(0, _echo.RequestCount);

        // A route's Methods list without TRACE refuses it as before; one that lists TRACE takes it (below).
        using var listed = await _gateway.Client.SendAsync(new HttpRequestMessage(HttpMethod.Trace, "/orders/7"));
        await Problem.AssertAsync(listed, HttpStatusCode.MethodNotAllowed, "method_not_allowed");
        Assert.Equal(["GET", "PUT"], listed.Content.Headers.Allow.Order(StringComparer.Ordinal));
        Assert.Equal(0, _echo.RequestCount);
    }
}
