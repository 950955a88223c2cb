using FuncGateway.Resilience;
using Microsoft.Extensions.Time.Testing;

namespace FuncGateway.Core.Tests.Resilience;

public class RetryBudgetTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 29, 12, 0, 0, TimeSpan.Zero));

    private static int Withdraw(RetryBudget budget, int attempts) => Enumerable.Range(0, attempts).Count(_ => budget.TryWithdraw());

    [Fact]
    public void A_budget_allocates_its_windows_only_when_its_route_gets_traffic()
    {
        // 10,000 idle routes must not hold two striped counters each (a cache line per core apiece).
        _ = new RetryBudget(20, 10, _time);
        var before = GC.GetAllocatedBytesForCurrentThread();
        var budget = new RetryBudget(20, 10, _time);
        var idle = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(idle <= 64, $"an unused budget allocated {idle} bytes");
        budget.OnRequest();
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before > idle);
        Assert.Equal(100, Withdraw(budget, 200)); // the floor: 10 per second over the 10-s window
    }

    [Fact]
    public void A_quiet_route_may_retry_min_per_second_times_the_window()
    {
        var budget = new RetryBudget(percent: 20, minPerSecond: 1, _time);

        Assert.Equal(10, Withdraw(budget, 100));
    }

    [Fact]
    public void A_busy_route_may_add_the_percentage_of_its_requests_in_retries()
    {
        var budget = new RetryBudget(percent: 20, minPerSecond: 0, _time);
        for (var i = 0; i < 1_000; i++)
        {
            budget.OnRequest();
        }

        Assert.Equal(200, Withdraw(budget, 1_000));
    }

    [Fact]
    public void The_budget_refills_as_the_window_slides()
    {
        var budget = new RetryBudget(percent: 0, minPerSecond: 1, _time);
        Assert.Equal(10, Withdraw(budget, 50));

        // Half of the previous window still counts: 10 spent there weigh 5.
        _time.Advance(TimeSpan.FromSeconds(15));
        Assert.Equal(5, Withdraw(budget, 50));

        // Now the 5 just spent weigh 2.5, the older ones nothing.
        _time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(7, Withdraw(budget, 50));
    }

    [Fact]
    public void No_budget_means_no_retries()
    {
        var budget = new RetryBudget(percent: 0, minPerSecond: 0, _time);
        budget.OnRequest();

        Assert.False(budget.TryWithdraw());
    }
}
