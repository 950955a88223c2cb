using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using FuncGateway.Samples.Echo;
using FuncGateway.Server.Tests.Infrastructure;
using FuncGateway.Testing;
using Microsoft.AspNetCore.Builder;

namespace FuncGateway.Server.Tests.Concurrency;

/// <summary>
/// <c>MaxConcurrency</c> through the real server and Azurite, with a real Kestrel upstream that holds requests until
/// the test lets them go: 503 above the limit, and the permit back when the request ends, whether the response
/// completed, the client went away or the upstream failed, and across registry refreshes.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class ConcurrencyTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private readonly SemaphoreSlim _arrived = new(0);
    private volatile TaskCompletionSource _release = NewGate();
    private TestUpstream _upstream = null!;
    private GatewayHost _gateway = null!;

    public async Task InitializeAsync()
    {
        // /c/hold waits until the test releases it (or its request is aborted); /c/fail drops the connection.
        _upstream = await TestUpstream.StartAsync("slow", app => app.Run(async context =>
        {
            if (context.Request.Path.StartsWithSegments("/c/hold"))
            {
                _arrived.Release();
                await _release.Task.WaitAsync(context.RequestAborted);
            }
            else if (context.Request.Path.StartsWithSegments("/c/fail"))
            {
                _arrived.Release();
                context.Abort();
                return;
            }

            await EchoHandler.HandleAsync(context, "slow");
        }));
        _gateway = await GatewayHost.StartAsync(azurite.ConnectionString);
    }

    private static TaskCompletionSource NewGate() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    public async Task DisposeAsync()
    {
        _release.TrySetResult();
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    private async Task RouteAsync(int? limit, string id = "c", string path = "/c/{**rest}")
    {
        if (limit is { } max)
        {
            await _gateway.UpsertRouteAsync(id, path, _upstream.BaseAddress.ToString(), ("MaxConcurrency", max));
        }
        else
        {
            await _gateway.UpsertRouteAsync(id, path, _upstream.BaseAddress.ToString());
        }

        await _gateway.ReloadAsync();
    }

    /// <summary>Starts a request the upstream holds, and waits until the upstream has it.</summary>
    private async Task<Task<HttpResponseMessage>> HoldAsync(CancellationToken cancellationToken = default)
    {
        var response = _gateway.Client.GetAsync("/c/hold", cancellationToken);
        Assert.True(await _arrived.WaitAsync(Patience, CancellationToken.None), "The held request did not reach the upstream.");
        return response;
    }

    private async Task AssertLimitedAsync()
    {
        using var refused = await _gateway.Client.GetAsync("/c/echo");
        var problem = await Problem.AssertAsync(refused, HttpStatusCode.ServiceUnavailable, "concurrency_limited");
        Assert.Equal("1", Assert.Single(refused.Headers.GetValues("Retry-After")));
        Assert.Contains("in flight", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    /// <summary>
    /// A permit is given back when the gateway has finished the request, which can be a moment after the client has
    /// seen the end of it (or has gone): poll until a request is admitted again.
    /// </summary>
    private async Task AssertAdmittedAgainAsync()
    {
        var deadline = DateTimeOffset.UtcNow + Patience;
        while (true)
        {
            using var response = await _gateway.Client.GetAsync("/c/echo");
            if (response.StatusCode == HttpStatusCode.OK)
            {
                Assert.Equal("/c/echo", (await Echo.ReadAsync(response)).Path);
                return;
            }

            await Problem.AssertAsync(response, HttpStatusCode.ServiceUnavailable, "concurrency_limited");
            Assert.True(DateTimeOffset.UtcNow < deadline, "The permit was never given back.");
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task Above_the_limit_a_request_gets_503_at_once_and_never_reaches_the_upstream()
    {
        await RouteAsync(2);
        var first = await HoldAsync();
        var second = await HoldAsync();
        var reached = _upstream.RequestCount;

        await AssertLimitedAsync();
        await AssertLimitedAsync();

        Assert.Equal(reached, _upstream.RequestCount);
        _release.TrySetResult();
        using var a = await first;
        using var b = await second;
        Assert.Equal(HttpStatusCode.OK, a.StatusCode);
        Assert.Equal(HttpStatusCode.OK, b.StatusCode);
        await AssertAdmittedAgainAsync();

        // Both permits are back: two requests may be in flight again, and only two.
        _release = NewGate();
        var third = await HoldAsync();
        var fourth = await HoldAsync();
        await AssertLimitedAsync();
        _release.TrySetResult();
        (await third).Dispose();
        (await fourth).Dispose();
    }

    [Fact]
    public async Task Registry_refreshes_keep_counting_the_requests_in_flight_while_the_limit_is_unchanged()
    {
        await RouteAsync(1);
        var held = await HoldAsync();
        await AssertLimitedAsync();

        // Another route changes, then this route's own row is written again with the same limit; each reload builds
        // a new snapshot (and the gateway's own refresh runs every 0.5 s in these tests besides).
        await RouteAsync(null, "other", "/other/{**rest}");
        await AssertLimitedAsync();
        await _gateway.UpsertRouteAsync("c", "/c/{**rest}", _upstream.BaseAddress.ToString(), ("MaxConcurrency", "1"), ("Priority", 1));
        await _gateway.ReloadAsync();
        var routes = await _gateway.AdminGetAsync("routes");
        Assert.Contains("\"priority\":1", routes.GetRawText().Replace(" ", "", StringComparison.Ordinal), StringComparison.Ordinal);
        await AssertLimitedAsync();

        _release.TrySetResult();
        using var done = await held;
        Assert.Equal(HttpStatusCode.OK, done.StatusCode);
        await AssertAdmittedAgainAsync();
    }

    [Fact]
    public async Task A_raised_limit_applies_at_the_next_refresh()
    {
        await RouteAsync(1);
        var held = await HoldAsync();
        await AssertLimitedAsync();

        await RouteAsync(2);
        using var admitted = await _gateway.Client.GetAsync("/c/echo");

        Assert.Equal(HttpStatusCode.OK, admitted.StatusCode);
        _release.TrySetResult();
        (await held).Dispose();
    }

    [Fact]
    public async Task A_client_that_goes_away_gives_its_permit_back()
    {
        await RouteAsync(1);
        using var cancel = new CancellationTokenSource();
        var held = await HoldAsync(cancel.Token);
        await AssertLimitedAsync();

        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => held);

        // The upstream still holds nothing back: nobody released it, the abort reached it through the gateway.
        Assert.False(_release.Task.IsCompleted);
        await AssertAdmittedAgainAsync();
    }

    [Fact]
    public async Task An_upstream_that_fails_gives_the_permit_back()
    {
        await RouteAsync(1);

        // A POST that reached the upstream is never retried, so the upstream sees exactly one attempt.
        using var failed = await _gateway.Client.PostAsync("/c/fail", new StringContent("order"));
        var code = (await failed.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString();
        Assert.Equal(HttpStatusCode.BadGateway, failed.StatusCode);
        Assert.Contains(code, new[] { "upstream_error", "upstream_unreachable" });
        Assert.True(await _arrived.WaitAsync(Patience));
        Assert.False(await _arrived.WaitAsync(0));

        await AssertAdmittedAgainAsync();
        var held = await HoldAsync();
        await AssertLimitedAsync();
        _release.TrySetResult();
        (await held).Dispose();
    }

    [Fact]
    public async Task A_route_without_a_limit_is_not_limited()
    {
        await RouteAsync(null);
        var held = new[] { await HoldAsync(), await HoldAsync(), await HoldAsync() };

        using var another = await _gateway.Client.GetAsync("/c/echo");

        Assert.Equal(HttpStatusCode.OK, another.StatusCode);
        _release.TrySetResult();
        foreach (var response in held)
        {
            (await response).Dispose();
        }
    }

    [Fact]
    public async Task A_limit_out_of_range_rejects_the_row_with_its_reason()
    {
        await _gateway.UpsertRouteAsync("zero", "/zero", _upstream.BaseAddress.ToString(), ("MaxConcurrency", 0));
        await _gateway.ReloadAsync();

        var rejected = await _gateway.AdminGetAsync("rejected");

        var row = Assert.Single(rejected.GetProperty("rejected").EnumerateArray(), r => r.GetProperty("rowKey").GetString() == "zero");
        Assert.Equal("MaxConcurrency 0 is outside 1–100000.", Assert.Single(row.GetProperty("errors").EnumerateArray()).GetString());
    }
}
