using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using FuncGateway.Authentication.Basic;
using FuncGateway.Backend;
using FuncGateway.Samples.Echo;
using FuncGateway.Server.Tests.Infrastructure;
using FuncGateway.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace FuncGateway.Server.Tests.Authentication;

/// <summary>The gateway signs the user context; the FuncGateway.Backend verifier in a real upstream checks it.</summary>
[Collection("Azurite")]
public sealed class SignedContextTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private static readonly string OldKey = Convert.ToBase64String(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());
    private static readonly string NewKey = Convert.ToBase64String(Enumerable.Range(101, 40).Select(i => (byte)i).ToArray());

    private readonly FakeTimeProvider _backendClock = new(TimeProvider.System.GetUtcNow());
    private TestUpstream _verified = null!;
    private TestUpstream _oldKeysOnly = null!;
    private GatewayHost _gateway = null!;
    private readonly HttpClient _direct = new();

    public async Task InitializeAsync()
    {
        _verified = await StartVerifiedUpstreamAsync("verified", new() { ["old"] = OldKey, ["new"] = NewKey });
        _oldKeysOnly = await StartVerifiedUpstreamAsync("old-only", new() { ["old"] = OldKey });
        _gateway = await GatewayHost.StartAsync(azurite.ConnectionString, new Dictionary<string, string?>
        {
            ["FuncGateway:Auth:Policies:legacy:Type"] = "Basic",
            ["FuncGateway:Auth:Policies:legacy:Users:alice"] = PasswordHash.Create("pw", PasswordHash.MinimumIterations).ToString(),
            ["FuncGateway:Auth:Policies:legacy:Roles:alice"] = "ops",
            ["FuncGateway:Auth:Signing:Keys:old"] = OldKey,
            ["FuncGateway:Auth:Signing:Keys:new"] = NewKey,
            ["FuncGateway:Auth:Signing:ActiveKeyId"] = "new",
        });
        await _gateway.UpsertUpstreamAsync("verified", _verified.BaseAddress);
        await _gateway.UpsertUpstreamAsync("old-only", _oldKeysOnly.BaseAddress);
        await _gateway.UpsertRouteAsync("open", "/open/{**rest}", "verified");
        await _gateway.UpsertRouteAsync("closed", "/closed/{**rest}", "verified", ("Auth", "legacy"), ("StripPrefix", "/closed"));
        await _gateway.UpsertRouteAsync("stale-keys", "/old/{**rest}", "old-only");
        await _gateway.ReloadAsync();
    }

    private async Task<TestUpstream> StartVerifiedUpstreamAsync(string name, Dictionary<string, string> keys)
    {
        var options = new GatewaySignatureOptions { MaxAgeSeconds = 60 };
        foreach (var (id, key) in keys)
        {
            options.Keys[id] = key;
        }

        var verifier = new GatewaySignatureVerifier(Options.Create(options), _backendClock);
        return await TestUpstream.StartAsync(name, app =>
        {
            app.UseMiddleware<GatewaySignatureMiddleware>(verifier, Options.Create(options));
            ((IApplicationBuilder)app).Run(context =>
            {
                // The verified context, as the backend sees it, travels back in a response header.
                var user = context.Features.Get<GatewayUserContext>()!;
                context.Response.Headers["X-Verified-User"] = $"{user.Policy}|{user.UserId}|{string.Join(';', user.Roles)}|{context.User.Identity!.IsAuthenticated}";
                return EchoHandler.HandleAsync(context, name);
            });
        });
    }

    public async Task DisposeAsync()
    {
        _direct.Dispose();
        await _gateway.DisposeAsync();
        await _verified.DisposeAsync();
        await _oldKeysOnly.DisposeAsync();
    }

    private static AuthenticationHeaderValue Alice => new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("alice:pw")));

    [Fact]
    public async Task Gateway_signed_requests_pass_the_verifier_whatever_the_path_and_query_encoding()
    {
        using (var response = await _gateway.Client.GetAsync("/open/a%20b/%C3%A9/x;y?q=a%2Fb&e=&x=%E2%82%AC&x=2"))
        {
            Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
            Assert.Equal("anonymous|||False", response.Headers.GetValues("X-Verified-User").Single());
        }

        // An encoded slash is forwarded as sent (docs/request-hygiene.md), and the signature covers it as the upstream sees it.
        using (var response = await _gateway.Client.GetAsync("/open/@types%2Fcors/a%2fb?q=%2F"))
        {
            Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
            Assert.Equal("anonymous|||False", response.Headers.GetValues("X-Verified-User").Single());
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, "/closed/orders/7?debug=1") { Content = new StringContent("{}") };
        request.Headers.Authorization = Alice;
        using (var response = await _gateway.Client.SendAsync(request))
        {
            Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
            Assert.Equal("legacy|alice|ops|True", response.Headers.GetValues("X-Verified-User").Single());
            var echo = await Echo.ReadAsync(response);
            Assert.Equal("new", echo.Header("X-Gateway-Key-Id").Single());
            Assert.StartsWith("v1=", echo.Header("X-Gateway-Signature").Single(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task The_verifier_rejects_unsigned_tampered_and_replayed_stale_requests()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/closed/orders/7?x=1");
        request.Headers.Authorization = Alice;
        using var signed = await _gateway.Client.SendAsync(request);
        var captured = await Echo.ReadAsync(signed);

        // Unsigned: straight to the backend, as if network isolation had failed.
        using (var response = await _direct.GetAsync(new Uri(_verified.BaseAddress, "orders/7?x=1")))
        {
            Assert.Equal("gateway_signature_missing", await CodeAsync(response));
        }

        // The captured request replayed as it was passes (within the window)...
        using (var response = await ReplayAsync(captured, "orders/7?x=1"))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        // ...but not with another user, an added identity header, another path or query, or another method.
        using (var response = await ReplayAsync(captured, "orders/7?x=1", h => h["x-user-id"] = ["admin"]))
        {
            Assert.Equal("gateway_signature_invalid", await CodeAsync(response));
        }

        using (var response = await ReplayAsync(captured, "orders/7?x=1", h => h["x-user-roles"] = ["ops,admin"]))
        {
            Assert.Equal("gateway_signature_invalid", await CodeAsync(response));
        }

        using (var response = await ReplayAsync(captured, "orders/7?x=1", h => h["x-consumer-tier"] = ["platinum"]))
        {
            Assert.Equal("gateway_signature_invalid", await CodeAsync(response));
        }

        using (var response = await ReplayAsync(captured, "orders/8?x=1"))
        {
            Assert.Equal("gateway_signature_invalid", await CodeAsync(response));
        }

        using (var response = await ReplayAsync(captured, "orders/7?x=2"))
        {
            Assert.Equal("gateway_signature_invalid", await CodeAsync(response));
        }

        using (var response = await ReplayAsync(captured, "orders/7?x=1", method: HttpMethod.Delete))
        {
            Assert.Equal("gateway_signature_invalid", await CodeAsync(response));
        }

        // Replayed later than the window allows.
        _backendClock.SetUtcNow(TimeProvider.System.GetUtcNow().AddSeconds(61));
        using (var response = await ReplayAsync(captured, "orders/7?x=1"))
        {
            Assert.Equal("gateway_signature_stale", await CodeAsync(response));
        }
    }

    [Fact]
    public async Task Keys_rotate_by_id_and_a_backend_without_the_active_key_refuses()
    {
        using var response = await _gateway.Client.GetAsync("/old/x");

        Assert.Equal("gateway_signature_unknown_key", await CodeAsync(response));
    }

    private Task<HttpResponseMessage> ReplayAsync(Echo captured, string pathAndQuery, Action<Dictionary<string, string[]>>? change = null, HttpMethod? method = null)
    {
        var headers = new Dictionary<string, string[]>(StringComparer.OrdinalIgnoreCase);
        foreach (var header in captured.Json.GetProperty("headers").EnumerateObject())
        {
            if (header.Name.StartsWith("x-", StringComparison.Ordinal))
            {
                headers[header.Name] = header.Value.EnumerateArray().Select(v => v.GetString()!).ToArray();
            }
        }

        change?.Invoke(headers);
        var request = new HttpRequestMessage(method ?? HttpMethod.Get, new Uri(_verified.BaseAddress, pathAndQuery));
        foreach (var (name, values) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, values);
        }

        return _direct.SendAsync(request);
    }

    private static async Task<string?> CodeAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.GetProperty("code").GetString();
    }
}
