using System.Net;
using FuncGateway.Model;
using FuncGateway.RateLimiting;
using Microsoft.Extensions.Time.Testing;

namespace FuncGateway.Core.Tests.RateLimiting;

/// <summary>Failed authentications counted per client IP with the same machinery; checking never does I/O.</summary>
public sealed class AuthenticationFailureThrottleTests
{
    private readonly FakeTimeProvider _time = new(TestLimiters.Start);
    private readonly InMemoryRateLimitStore _store = new();

    private AuthenticationFailureThrottle Throttle(Action<RateLimitOptions> configure, int seed = 1)
    {
        var runtime = TestLimiters.Runtime(_store, _time, configure, seed);
        var registry = new RateLimiterRegistry(Microsoft.Extensions.Options.Options.Create(runtime.Options), runtime);
        return new AuthenticationFailureThrottle(registry, runtime);
    }

    [Fact]
    public async Task A_client_that_keeps_failing_must_wait_and_other_clients_are_not_affected()
    {
        var throttle = Throttle(o => (o.AuthenticationFailures.Limit, o.AuthenticationFailures.WindowSeconds) = (3, 60));
        var attacker = IPAddress.Parse("203.0.113.66");
        _time.Advance(TimeSpan.FromSeconds(15));

        for (var i = 0; i < 3; i++)
        {
            Assert.Null(await WaitAsync(throttle, attacker));
            await throttle.RecordFailureAsync(attacker, default);
        }

        var operations = _store.Attempts;
        Assert.Equal(TimeSpan.FromSeconds(45), await WaitAsync(throttle, attacker));
        Assert.Null(await WaitAsync(throttle, IPAddress.Parse("203.0.113.67")));
        Assert.Equal(operations, _store.Attempts);

        _time.Advance(TimeSpan.FromSeconds(45));
        Assert.Null(await WaitAsync(throttle, attacker));
    }

    [Fact]
    public async Task Failures_recorded_on_one_instance_count_on_every_instance()
    {
        var first = Throttle(o => o.AuthenticationFailures.Limit = 3, seed: 1);
        var second = Throttle(o => o.AuthenticationFailures.Limit = 3, seed: 2);
        var attacker = IPAddress.Parse("2001:db8::66");

        for (var i = 0; i < 3; i++)
        {
            await first.RecordFailureAsync(attacker, default);
        }

        // The second instance learns it with its first recorded failure, and makes the client wait from then on.
        Assert.Null(await WaitAsync(second, attacker));
        await second.RecordFailureAsync(attacker, default);
        Assert.NotNull(await WaitAsync(second, attacker));

        // The same /64: a rotated address does not start over.
        Assert.NotNull(await WaitAsync(second, IPAddress.Parse("2001:db8::67")));
    }

    [Fact]
    public async Task Disabled_it_lets_everyone_try()
    {
        var throttle = Throttle(o => (o.AuthenticationFailures.Enabled, o.AuthenticationFailures.Limit) = (false, 1));
        var client = IPAddress.Parse("192.0.2.1");
        await throttle.RecordFailureAsync(client, default);
        await throttle.RecordFailureAsync(client, default);

        Assert.Null(await WaitAsync(throttle, client));
        Assert.Equal(0, _store.Attempts);
    }

    [Fact]
    public async Task A_named_policy_can_count_failures_but_always_per_client_ip()
    {
        var throttle = Throttle(o =>
        {
            o.Policies["strict_auth"] = new RateLimitPolicyOptions { Limit = 2, WindowSeconds = 600, PartitionBy = "Global", Mode = RateLimitMode.Strict };
            o.AuthenticationFailures.Policy = "strict_auth";
        });
        var client = IPAddress.Parse("192.0.2.1");
        await throttle.RecordFailureAsync(client, default);
        await throttle.RecordFailureAsync(client, default);
        await throttle.RecordFailureAsync(client, default);

        Assert.Equal(TimeSpan.FromSeconds(600), await WaitAsync(throttle, client));
        Assert.Null(await WaitAsync(throttle, IPAddress.Parse("192.0.2.2")));
    }

    [Fact]
    public async Task No_more_of_one_clients_attempts_than_the_limit_are_checked_at_a_time_the_rest_wait_their_turn()
    {
        var throttle = Throttle(o => (o.AuthenticationFailures.Limit, o.AuthenticationFailures.WindowSeconds) = (3, 60));
        var attacker = IPAddress.Parse("203.0.113.66");
        var running = new List<IThrottledAttempt>();
        for (var i = 0; i < 3; i++)
        {
            var decision = await throttle.CheckAsync(attacker, default);
            Assert.Null(decision.Wait);
            running.Add(Assert.IsAssignableFrom<IThrottledAttempt>(decision.Attempt));
        }

        var fourth = throttle.CheckAsync(attacker, default);
        Assert.False(fourth.IsCompleted);
        Assert.Null(await WaitAsync(throttle, IPAddress.Parse("203.0.113.67")));

        running[0].End();
        var next = await fourth;
        Assert.Null(next.Wait);
        next.Attempt!.End();

        // A waiting attempt whose turn comes after the allowance was spent is told to wait, and gives its place back.
        for (var i = 0; i < 3; i++)
        {
            await throttle.RecordFailureAsync(attacker, default);
        }

        var late = throttle.CheckAsync(attacker, default);
        Assert.NotNull((await late).Wait);
    }

    /// <summary>What the throttle says for one attempt, which ends at once.</summary>
    private static async Task<TimeSpan?> WaitAsync(AuthenticationFailureThrottle throttle, IPAddress client)
    {
        var decision = await throttle.CheckAsync(client, default);
        decision.Attempt?.End();
        return decision.Wait;
    }
}
