using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using FuncGateway.Authentication.Basic;
using FuncGateway.Server.Tests.Infrastructure;
using FuncGateway.Testing;

namespace FuncGateway.Server.Tests.Diagnostics;

/// <summary>The access log: one JSON line per request, with what an operator needs and no secret.</summary>
[Collection("Azurite")]
public sealed class AccessLogTests(AzuriteFixture azurite)
{
    private const string Password = "s3cret-Passw0rd!";

    [Fact]
    public async Task One_json_line_per_request_with_route_status_durations_caller_and_codes_but_no_secret()
    {
        var capture = new TelemetryCapture();
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString, new Dictionary<string, string?>
        {
            ["FuncGateway:Telemetry:AccessLog"] = "Logger",
            ["FuncGateway:Auth:Policies:legacy:Type"] = "Basic",
            ["FuncGateway:Auth:Policies:legacy:Users:alice"] = PasswordHash.Create(Password, PasswordHash.MinimumIterations).ToString(),
        }, logging: capture.AddTo);
        await using var upstream = await TestUpstream.StartAsync("echo");
        await gateway.UpsertRouteAsync("orders", "/orders/{**rest}", upstream.BaseAddress.ToString(), ("Auth", "legacy"));
        await gateway.ReloadAsync();

        var credentials = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("alice:" + Password)));
        using var ok = new HttpRequestMessage(HttpMethod.Get, "/orders/42?api_key=qk-SECRET-1&token=tk-SECRET-2");
        ok.Headers.Authorization = credentials;
        ok.Headers.Add("X-API-Key", "fgw_hk-SECRET-3");
        using var okResponse = await gateway.Client.SendAsync(ok);
        Assert.Equal(HttpStatusCode.OK, okResponse.StatusCode);

        using var refused = new HttpRequestMessage(HttpMethod.Get, "/orders/43?password=pw-SECRET-4");
        refused.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("alice:wrong-SECRET-5")));
        using var refusedResponse = await gateway.Client.SendAsync(refused);
        Assert.Equal(HttpStatusCode.Unauthorized, refusedResponse.StatusCode);

        var lines = await WaitForLinesAsync(capture, 2);
        var first = JsonDocument.Parse(lines[0]).RootElement;
        Assert.Equal(okResponse.Headers.GetValues("X-Request-Id").Single(), first.GetProperty("requestId").GetString());
        Assert.Equal("GET", first.GetProperty("method").GetString());
        Assert.Equal("/orders/42", first.GetProperty("path").GetString());
        Assert.Equal("orders", first.GetProperty("route").GetString());
        Assert.Equal(200, first.GetProperty("status").GetInt32());
        Assert.True(first.GetProperty("durationMs").GetDouble() >= first.GetProperty("upstreamMs").GetDouble());
        Assert.Equal(1, first.GetProperty("attempts").GetInt32());
        Assert.Equal(upstream.BaseAddress.ToString().TrimEnd('/'), first.GetProperty("instance").GetString());
        Assert.Equal("alice", first.GetProperty("caller").GetString());
        Assert.Equal("legacy", first.GetProperty("authPolicy").GetString());
        Assert.Equal("success", first.GetProperty("auth").GetString());
        Assert.True(DateTimeOffset.UtcNow - first.GetProperty("time").GetDateTimeOffset() < TimeSpan.FromMinutes(5));

        var second = JsonDocument.Parse(lines[1]).RootElement;
        Assert.Equal(401, second.GetProperty("status").GetInt32());
        Assert.Equal("invalid_credentials", second.GetProperty("code").GetString());
        Assert.Equal("invalid_credentials", second.GetProperty("auth").GetString());
        Assert.False(second.TryGetProperty("caller", out _));

        // No credential, no query value, not even the query's names: the path only.
        var all = string.Join("\n", lines);
        foreach (var secret in new[] { Password, "SECRET", "api_key", "token", "password=", credentials.Parameter!, "Basic " })
        {
            Assert.DoesNotContain(secret, all, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task The_method_field_is_a_standard_method_or_one_the_route_lists_and_otherwise_a_placeholder()
    {
        var capture = new TelemetryCapture();
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString, new Dictionary<string, string?>
        {
            ["FuncGateway:Telemetry:AccessLog"] = "Logger",
        }, logging: capture.AddTo);
        await using var upstream = await TestUpstream.StartAsync("echo");
        await gateway.UpsertRouteAsync("orders", "/orders/any/{**rest}", upstream.BaseAddress.ToString());
        await gateway.UpsertRouteAsync("dav", "/orders/dav/{**rest}", upstream.BaseAddress.ToString(), ("Methods", "GET,PROPFIND"));
        await gateway.ReloadAsync();

        // A client may send any token as its method, as long as it likes: none of it reaches the log.
        var madeUp = "X-" + new string('A', 2000) + "-INJECTED";
        foreach (var (method, path) in new[] { (madeUp, "/orders/any/1"), ("PROPFIND", "/orders/dav/2"), ("DELETE", "/orders/any/3"), (madeUp, "/orders/dav/4") })
        {
            using var response = await gateway.Client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));
            Assert.NotEqual(HttpStatusCode.BadRequest, response.StatusCode);
        }

        var methods = (await WaitForLinesAsync(capture, 4)).Select(static l => JsonDocument.Parse(l).RootElement)
            .ToDictionary(static l => l.GetProperty("path").GetString()!, static l => l.GetProperty("method").GetString());
        Assert.Equal("_OTHER", methods["/orders/any/1"]);
        Assert.Equal("PROPFIND", methods["/orders/dav/2"]);
        Assert.Equal("DELETE", methods["/orders/any/3"]);
        Assert.Equal("_OTHER", methods["/orders/dav/4"]);
    }

    private static async Task<List<string>> WaitForLinesAsync(TelemetryCapture capture, int count)
    {
        for (var i = 0; i < 200; i++)
        {
            // The admin reload that loaded the route is logged too; these are the lines of the route's requests.
            var lines = capture.Logs.Records.Where(r => r.Category == "FuncGateway.AccessLog" && r.EventId.Id == 3100).Select(r => r.Message)
                .Where(m => m.Contains("\"path\":\"/orders/", StringComparison.Ordinal)).ToList();
            if (lines.Count >= count)
            {
                Assert.All(lines, line => Assert.DoesNotContain('\n', line));
                return lines;
            }

            await Task.Delay(50);
        }

        Assert.Fail("The access log did not write the expected lines.");
        return [];
    }
}
