using System.Net.Http.Headers;
using System.Text;
using FuncGateway.Authentication.Basic;
using FuncGateway.Server.Tests.Infrastructure;
using FuncGateway.Testing;

namespace FuncGateway.Server.Tests.Authentication;

/// <summary>Client-supplied identity headers, in every spelling, never reach the upstream; the gateway's own always do.</summary>
[Collection("Azurite")]
public sealed class IdentityHeaderTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private static readonly string[] Spoofs =
    [
        "X-User-Id", "x-user-id", "X-USER-ID", "X_User_Id", "x_user_id", "X-User_Id", "X.User.Id", "X--User--Id", "XUser-Id", "xuser_id",
        "X-User-Roles", "X-User-Scopes", "X-User-Email", "X-User-Tenant", "X-User", "X-Consumer-Id", "X_Consumer_Tier", "X-Consumer-Key-Id",
        "X-Gateway-Auth-Policy", "X-Gateway-Signature", "X-Gateway-Timestamp", "X-Gateway-Key-Id", "x_gateway_signature", "X-Gateway-Anything",
    ];

    private TestUpstream _echo = null!;
    private GatewayHost _gateway = null!;

    public async Task InitializeAsync()
    {
        _echo = await TestUpstream.StartAsync("echo");
        _gateway = await GatewayHost.StartAsync(azurite.ConnectionString, new Dictionary<string, string?>
        {
            ["FuncGateway:Auth:Policies:legacy:Type"] = "Basic",
            ["FuncGateway:Auth:Policies:legacy:Users:alice"] = PasswordHash.Create("pw", PasswordHash.MinimumIterations).ToString(),
            ["FuncGateway:Auth:Signing:Keys:k1"] = Convert.ToBase64String(new byte[32]),
        });
        await _gateway.UpsertUpstreamAsync("echo", _echo.BaseAddress);
        await _gateway.UpsertRouteAsync("open", "/open/{**rest}", "echo");
        await _gateway.UpsertRouteAsync("closed", "/closed/{**rest}", "echo", ("Auth", "legacy"));
        await _gateway.ReloadAsync();
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _echo.DisposeAsync();
    }

    private static void AddSpoofs(HttpRequestMessage request)
    {
        foreach (var name in Spoofs)
        {
            Assert.True(request.Headers.TryAddWithoutValidation(name, "spoofed"), name);
        }
    }

    private static void AssertNoSpoof(Echo echo)
    {
        foreach (var header in echo.Json.GetProperty("headers").EnumerateObject())
        {
            foreach (var value in header.Value.EnumerateArray())
            {
                Assert.False(value.GetString()!.Contains("spoofed", StringComparison.Ordinal), $"{header.Name}: {value} reached the upstream");
            }
        }
    }

    [Theory]
    [InlineData("/open/x")]
    [InlineData("/closed/x")]
    public async Task Spoofed_identity_headers_in_every_spelling_never_reach_the_upstream(string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        AddSpoofs(request);
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("alice:pw")));

        using var response = await _gateway.Client.SendAsync(request);
        var echo = await Echo.ReadAsync(response);

        AssertNoSpoof(echo);
        Assert.Equal(path == "/open/x" ? "anonymous" : "legacy", echo.Header("X-Gateway-Auth-Policy").Single());
        Assert.Single(echo.Header("X-Gateway-Signature"));
        if (path == "/closed/x")
        {
            Assert.Equal("alice", echo.Header("X-User-Id").Single());
        }
        else
        {
            Assert.Empty(echo.Header("X-User-Id"));
        }
    }

    [Fact]
    public async Task A_Connection_header_naming_identity_headers_cannot_strip_the_injected_ones()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/closed/x");
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("alice:pw")));
        request.Headers.Connection.Add("X-User-Id");
        request.Headers.Connection.Add("X-Gateway-Signature");
        request.Headers.Connection.Add("X-Gateway-Auth-Policy");
        request.Headers.TryAddWithoutValidation("X-User-Id", "spoofed");

        using var response = await _gateway.Client.SendAsync(request);
        var echo = await Echo.ReadAsync(response);

        Assert.Equal("alice", echo.Header("X-User-Id").Single());
        Assert.Equal("legacy", echo.Header("X-Gateway-Auth-Policy").Single());
        Assert.Single(echo.Header("X-Gateway-Signature"));
        Assert.DoesNotContain(echo.Header("Connection"), v => v.Contains("X-User", StringComparison.OrdinalIgnoreCase));
        AssertNoSpoof(echo);
    }

    [Fact]
    public async Task Spoofed_headers_over_a_raw_socket_with_odd_spacing_and_case_are_removed_too()
    {
        var address = _gateway.Client.BaseAddress!;
        using var client = new System.Net.Sockets.TcpClient();
        await client.ConnectAsync(address.Host, address.Port);
        await using var stream = client.GetStream();
        var raw = "GET /open/raw HTTP/1.1\r\nHost: gw\r\nx-uSeR-iD:   spoofed  \r\nX_USER_ROLES:spoofed\r\nConnection: X-Gateway-Auth-Policy, close\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(raw));
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var text = await reader.ReadToEndAsync();

        Assert.StartsWith("HTTP/1.1 200", text, StringComparison.Ordinal);
        Assert.DoesNotContain("spoofed", text, StringComparison.Ordinal);
        Assert.Contains("\"x-gateway-auth-policy\":[\"anonymous\"]", text, StringComparison.Ordinal);
    }
}
