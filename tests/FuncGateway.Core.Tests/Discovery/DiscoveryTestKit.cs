using System.Threading.Channels;
using FuncGateway.Discovery;
using Microsoft.Extensions.Logging.Testing;

namespace FuncGateway.Core.Tests.Discovery;

/// <summary>
/// A discovery source running in the background, with every list it published. Waits are generous deadlines for
/// something that should happen at once (a blocking query or a watch answers on the change), never timings.
/// </summary>
internal sealed class RunningSource : IAsyncDisposable
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    private readonly Channel<IReadOnlyList<DiscoveredInstance>> _published = Channel.CreateUnbounded<IReadOnlyList<DiscoveredInstance>>();
    private readonly CancellationTokenSource _stop = new();
    private readonly IDiscoverySource _source;
    private readonly Task _watch;

    private RunningSource(IDiscoverySource source)
    {
        _source = source;
        _watch = Task.Run(() => source.WatchAsync(list =>
        {
            _published.Writer.TryWrite(list);
            return ValueTask.CompletedTask;
        }, _stop.Token));
    }

    public static RunningSource Start(IDiscoverySource source) => new(source);

    /// <summary>The next list the source publishes (fails after <see cref="Deadline"/>).</summary>
    public async Task<IReadOnlyList<DiscoveredInstance>> NextAsync() =>
        await _published.Reader.ReadAsync().AsTask().WaitAsync(Deadline);

    /// <summary>The URLs of the next list the source publishes.</summary>
    public async Task<string[]> NextUrlsAsync() => [.. (await NextAsync()).Select(static i => i.Url)];

    /// <summary>True when the source published nothing since the last <see cref="NextAsync"/>.</summary>
    public bool NothingPublished => !_published.Reader.TryPeek(out _);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        // The contract: WatchAsync ends quietly on cancellation.
        await _watch.WaitAsync(Deadline);
        await _source.DisposeAsync();
        _stop.Dispose();
    }
}

/// <summary>Polls a condition the code under test makes true on its own (a request reaching a fake, a log line).</summary>
internal static class Eventually
{
    public static async Task TrueAsync(Func<bool> condition, string what)
    {
        using var deadline = new CancellationTokenSource(RunningSource.Deadline);
        while (!condition())
        {
            if (deadline.IsCancellationRequested)
            {
                Assert.Fail("Timed out waiting for: " + what);
            }

            await Task.Delay(20);
        }
    }
}

/// <summary>Log records of one event id, and the outage and recovery lines every source writes once.</summary>
internal static class FakeLogs
{
    public static int Count(FakeLogCollector logs, int eventId) => logs.GetSnapshot().Count(r => r.Id.Id == eventId);

    /// <summary>Exactly one outage line so far, giving <paramref name="reason"/> and the size of the list kept.</summary>
    public static void AssertOutage(FakeLogCollector logs, int outageId, string reason, int instances)
    {
        var outage = Assert.Single(logs.GetSnapshot(), r => r.Id.Id == outageId);
        Assert.Contains(reason, outage.Message, StringComparison.Ordinal);
        Assert.Contains($"Keeping the last list ({instances} instances)", outage.Message, StringComparison.Ordinal);
    }

    /// <summary>The recovery logged once, the outage still once, and the secret nowhere in the log.</summary>
    public static async Task AssertRecoveredOnceAsync(FakeLogCollector logs, int outageId, int recoveryId, string secret)
    {
        await Eventually.TrueAsync(() => Count(logs, recoveryId) == 1, "the recovery logged");
        Assert.Equal(1, Count(logs, outageId));
        Assert.DoesNotContain(logs.GetSnapshot(), r => r.Message.Contains(secret, StringComparison.Ordinal));
    }
}

/// <summary>Counts every request a client tries, including those that never reach a server.</summary>
internal sealed class CountingHandler : DelegatingHandler
{
    private int _attempts;

    public CountingHandler()
    {
    }

    public CountingHandler(HttpMessageHandler inner)
        : base(inner)
    {
    }

    public int Attempts => Volatile.Read(ref _attempts);

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _attempts);
        return base.SendAsync(request, cancellationToken);
    }
}
