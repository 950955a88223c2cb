using FuncGateway.Resilience;

namespace FuncGateway.Core.Tests.Resilience;

/// <summary>The retry budget's request counter: striped over cores, yet every increment is counted.</summary>
public sealed class StripedCounterTests
{
    [Fact]
    public async Task Concurrent_increments_from_many_threads_all_count()
    {
        var counter = new StripedCounter();
        var workers = Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
        {
            for (var i = 0; i < 10_000; i++)
            {
                counter.Increment();
            }
        }));

        await Task.WhenAll(workers);

        Assert.Equal(80_000, counter.Sum());
    }
}
