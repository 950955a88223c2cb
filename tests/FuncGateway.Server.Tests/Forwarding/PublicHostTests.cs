using System.Net;
using FuncGateway.Server.Tests.Infrastructure;
using FuncGateway.Testing;

namespace FuncGateway.Server.Tests.Forwarding;

/// <summary>
/// FuncGateway:Forwarding:PublicHosts through the real server: a request for another host is refused before routing
/// and never reaches an upstream; only a host from the list is ever sent upstream as X-Forwarded-Host. The lists hold
/// 127.0.0.1 as the quick start's does, because the test host's own admin calls address the gateway by it.
/// </summary>
[Collection("Azurite")]
public sealed class PublicHostTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private TestUpstream _echo = null!;

    public async Task InitializeAsync() => _echo = await TestUpstream.StartAsync("echo");

    public async Task DisposeAsync() => await _echo.DisposeAsync();

    private async Task<GatewayHost> StartAsync(params (string Key, string Value)[] settings)
    {
        var gateway = await GatewayHost.StartAsync(azurite.ConnectionString, settings.ToDictionary(s => s.Key, s => (string?)s.Value));
        await gateway.UpsertRouteAsync("app", "/app/{**rest}", _echo.BaseAddress.ToString());
        await gateway.ReloadAsync();
        return gateway;
    }

    private static async Task<HttpResponseMessage> SendAsync(GatewayHost gateway, string path, string? host, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (host is not null)
        {
            request.Headers.Host = host;
        }

        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return await gateway.Client.SendAsync(request);
    }

    [Fact]
    public async Task A_host_outside_the_list_gets_421_before_routing_and_the_upstream_sees_only_a_listed_host()
    {
        await using var gateway = await StartAsync(("FuncGateway:Forwarding:PublicHosts", "api.example.test, *.apps.example.test, 127.0.0.1"));

        await Problem.AssertAsync(await SendAsync(gateway, "/app/x", "evil.example"), HttpStatusCode.MisdirectedRequest, "unknown_host");
        await Problem.AssertAsync(await SendAsync(gateway, "/no/such/route", "evil.example"), HttpStatusCode.MisdirectedRequest, "unknown_host");
        await Problem.AssertAsync(await SendAsync(gateway, "/app/x", "apps.example.test"), HttpStatusCode.MisdirectedRequest, "unknown_host");
        // A listed name with a port no connection can have is not vouched for (an upstream would build links to it);
        // HttpClient refuses to send such a Host, so these go over a raw connection.
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        foreach (var host in new[] { "api.example.test:99999", "api.example.test:0", "api.example.test:4294967377" })
        {
            var response = await RawHttpClient.ExchangeAsync(gateway.Client.BaseAddress!, $"GET /app/x HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n", cts.Token);
            response.AssertProblem(421, "unknown_host");
        }

        Assert.Equal(0, _echo.RequestCount);

        var listed = await Echo.ReadAsync(await SendAsync(gateway, "/app/x", "API.example.test", ("X-Forwarded-Host", "evil.example")));
        var wildcard = await Echo.ReadAsync(await SendAsync(gateway, "/app/x", "tenant-1.apps.example.test:8443"));

        Assert.Equal(["API.example.test"], listed.Header("X-Forwarded-Host"));
        Assert.Equal(["tenant-1.apps.example.test:8443"], wildcard.Header("X-Forwarded-Host"));
    }

    [Fact]
    public async Task The_admin_surface_is_behind_the_list_but_the_readiness_probe_is_not()
    {
        await using var gateway = await StartAsync(("FuncGateway:Forwarding:PublicHosts", "api.example.test,127.0.0.1"));

        using var admin = new HttpRequestMessage(HttpMethod.Get, "/_gateway/routes");
        admin.Headers.Add("X-Admin-Key", GatewayHost.AdminKey);
        admin.Headers.Host = "evil.example";
        await Problem.AssertAsync(await gateway.Client.SendAsync(admin), HttpStatusCode.MisdirectedRequest, "unknown_host");

        using var readiness = await SendAsync(gateway, "/_gateway/healthz", "10.1.2.3:8080");
        Assert.Equal(HttpStatusCode.OK, readiness.StatusCode);
    }

    [Fact]
    public async Task Without_a_list_every_host_is_served_and_none_is_vouched_for_upstream()
    {
        await using var gateway = await StartAsync();

        var echo = await Echo.ReadAsync(await SendAsync(gateway, "/app/x", "evil.example", ("X-Forwarded-Host", "evil.example")));

        Assert.Empty(echo.Header("X-Forwarded-Host"));
        Assert.DoesNotContain("evil.example", echo.Json.GetProperty("headers").GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Behind_a_trusted_proxy_the_host_it_forwards_is_the_one_checked()
    {
        await using var gateway = await StartAsync(
            ("FuncGateway:ForwardedHeaders:TrustedProxies", "127.0.0.1"),
            ("FuncGateway:Forwarding:PublicHosts", "api.example.test,127.0.0.1"));

        var echo = await Echo.ReadAsync(await SendAsync(gateway, "/app/x", null, ("X-Forwarded-Host", "api.example.test"), ("X-Forwarded-Proto", "https")));
        await Problem.AssertAsync(await SendAsync(gateway, "/app/x", "api.example.test", ("X-Forwarded-Host", "evil.example")), HttpStatusCode.MisdirectedRequest, "unknown_host");

        Assert.Equal(["api.example.test"], echo.Header("X-Forwarded-Host"));
        Assert.Equal(["https"], echo.Header("X-Forwarded-Proto"));
    }
}
