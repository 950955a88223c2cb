using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using FuncGateway.Server.Tests.Infrastructure;

namespace FuncGateway.Server.Tests.Discovery;

/// <summary>Requests sent one after another through the gateway while a test changes what discovery finds; records who answered each.</summary>
internal sealed class DiscoveryTraffic : IAsyncDisposable
{
    private readonly ConcurrentQueue<string> _answers = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public DiscoveryTraffic(GatewayHost gateway, string path)
    {
        _loop = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                try
                {
                    using var response = await gateway.Client.GetAsync(path, _stop.Token);
                    var body = await response.Content.ReadAsStringAsync(_stop.Token);
                    _answers.Enqueue(response.IsSuccessStatusCode
                        ? JsonDocument.Parse(body).RootElement.GetProperty("instance").GetString()!
                        : $"{(int)response.StatusCode} {body}");
                }
                catch (OperationCanceledException) when (_stop.IsCancellationRequested)
                {
                    return;
                }
            }
        });
    }

    /// <summary>Who answered each request so far, in order (an instance name, or the status and body of a failure).</summary>
    public string[] Answers => [.. _answers];

    /// <summary>Waits until <paramref name="count"/> more requests than now have been answered.</summary>
    public async Task<string[]> NextAsync(int count)
    {
        var start = _answers.Count;
        await Waiting.UntilAsync(() => _answers.Count >= start + count, TimeSpan.FromSeconds(30), $"{count} more answers");
        return [.. _answers.Skip(start)];
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
    }
}

/// <summary>Polling with a deadline, for states that arrive through a refresh.</summary>
internal static class Waiting
{
    public static async Task UntilAsync(Func<bool> condition, TimeSpan timeout, string what) =>
        await UntilAsync(() => Task.FromResult(condition()), timeout, what);

    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(clock.Elapsed < timeout, $"Timed out after {timeout.TotalSeconds} s waiting for {what}.");
            await Task.Delay(50);
        }
    }
}

/// <summary>The discovery block of a pool at <c>/_gateway/upstreams</c>, and the URLs the pool's current snapshot serves.</summary>
internal static class DiscoveryView
{
    public static async Task<JsonElement> PoolAsync(GatewayHost gateway, string pool) =>
        (await gateway.AdminGetAsync("upstreams")).GetProperty("upstreams").EnumerateArray().Single(p => p.GetProperty("name").GetString() == pool);

    public static async Task<string[]> ServedUrlsAsync(GatewayHost gateway, string pool)
    {
        var upstreams = (await gateway.AdminGetAsync("upstreams")).GetProperty("upstreams").EnumerateArray()
            .Where(p => p.GetProperty("name").GetString() == pool).ToList();
        return upstreams.Count == 0 ? [] : [.. upstreams[0].GetProperty("instances").EnumerateArray().Select(i => i.GetProperty("url").GetString()!).Order()];
    }
    /// <summary>
    /// After the source's backing service went away: waits for the pool to show <c>stale</c>, then checks the last list
    /// keeps serving (every answer from <paramref name="answering"/>), the admin view names the source, an error and the
    /// kept <paramref name="urls"/>, and never shows <paramref name="secret"/>.
    /// </summary>
    public static async Task AssertOutageKeepsLastListAsync(GatewayHost gateway, DiscoveryTraffic traffic, string source, string secret, string answering, string[] urls)
    {
        await Waiting.UntilAsync(
            async () => (await PoolAsync(gateway, "orders")).GetProperty("discovery").GetProperty("state").GetString() == "stale", TimeSpan.FromSeconds(20), "the source to notice the outage");
        Assert.All(await traffic.NextAsync(30), answer => Assert.Equal(answering, answer));
        var discovery = (await PoolAsync(gateway, "orders")).GetProperty("discovery");
        Assert.Equal(source, discovery.GetProperty("source").GetString());
        Assert.False(string.IsNullOrEmpty(discovery.GetProperty("lastError").GetString()));
        Assert.DoesNotContain(secret, discovery.GetRawText(), StringComparison.Ordinal);
        Assert.Equal(urls, discovery.GetProperty("instances").EnumerateArray().Select(static i => i.GetProperty("url").GetString()));
    }
}

/// <summary>How long the push sources (consul's blocking query, kubernetes' watch) take to be served.</summary>
internal static class PushDiscovery
{
    /// <summary>
    /// A change answers the pending query or watch at once; the bound is one snapshot rebuild plus slack for a machine
    /// shared with other builds.
    /// </summary>
    public static readonly TimeSpan RefreshBound = TimeSpan.FromSeconds(2);

    /// <summary>The deadline for the first list to be served.</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);
}
