using FuncGateway.Resilience;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Polly;
using Polly.CircuitBreaker;
using Yarp.ReverseProxy.Forwarder;

namespace FuncGateway.Core.Tests.Resilience;

public class InstanceBreakerTests
{
    private static readonly AttemptResult Ok = new(AttemptOutcome.Completed, ForwarderError.None, CountsAsFailure: false, Retryable: false);
    private static readonly AttemptResult ServerError = new(AttemptOutcome.Completed, ForwarderError.None, CountsAsFailure: true, Retryable: false);
    private static readonly AttemptResult Unreachable = new(AttemptOutcome.Failed, ForwarderError.Request, CountsAsFailure: true, Retryable: true);

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 29, 12, 0, 0, TimeSpan.Zero));
    private int _calls;

    private InstanceBreaker Create(double ratio = 0.5, int throughput = 4, double breakSeconds = 10) =>
        new("pool", "http://a", new CircuitBreakerSettings(true, ratio, throughput, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(breakSeconds)), _time, NullLogger.Instance);

    private async Task<Outcome<AttemptResult>> RunAsync(InstanceBreaker breaker, AttemptResult result, Task? gate = null)
    {
        var context = ResilienceContextPool.Shared.Get();
        try
        {
            return await breaker.Pipeline.ExecuteOutcomeAsync(
                async (_, state) =>
                {
                    Interlocked.Increment(ref state.Test._calls);
                    if (state.Gate is not null)
                    {
                        await state.Gate;
                    }

                    return Outcome.FromResult(state.Result);
                },
                context,
                (Test: this, Result: result, Gate: gate));
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    private long Now => _time.GetUtcNow().UtcTicks;

    [Fact]
    public async Task A_flood_of_client_errors_never_opens_the_circuit()
    {
        var breaker = Create();
        var clientError = Ok; // a 4xx passes through as a completed response that is not the upstream's failure

        for (var i = 0; i < 500; i++)
        {
            await RunAsync(breaker, clientError);
        }

        Assert.Equal(CircuitState.Closed, breaker.State);
        Assert.True(breaker.Allows(Now));
    }

    [Fact]
    public async Task Failures_over_the_ratio_open_the_circuit_and_it_then_fails_fast_without_calling_the_upstream()
    {
        var breaker = Create(ratio: 0.5, throughput: 4);
        await RunAsync(breaker, Ok);
        await RunAsync(breaker, ServerError);
        await RunAsync(breaker, Ok);
        Assert.Equal(CircuitState.Closed, breaker.State);

        await RunAsync(breaker, Unreachable);

        Assert.Equal(CircuitState.Open, breaker.State);
        Assert.False(breaker.Allows(Now));
        Assert.Equal(_time.GetUtcNow().AddSeconds(10), breaker.OpenUntil);
        var calls = _calls;
        var rejected = await RunAsync(breaker, Ok);
        Assert.IsType<BrokenCircuitException>(rejected.Exception);
        Assert.Equal(calls, _calls);
    }

    [Fact]
    public async Task After_the_break_one_probe_is_let_through_and_its_success_closes_the_circuit()
    {
        var breaker = Create(throughput: 2);
        await RunAsync(breaker, ServerError);
        await RunAsync(breaker, ServerError);
        Assert.Equal(CircuitState.Open, breaker.State);

        _time.Advance(TimeSpan.FromSeconds(9));
        Assert.False(breaker.Allows(Now));
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(breaker.Allows(Now));

        var gate = new TaskCompletionSource();
        var probe = RunAsync(breaker, Ok, gate.Task);

        // Polly reports the transition through a callback it runs (and awaits) just before the probe.
        for (var i = 0; i < 500 && breaker.State != CircuitState.HalfOpen; i++)
        {
            await Task.Delay(5);
        }

        Assert.Equal(CircuitState.HalfOpen, breaker.State);
        Assert.False(breaker.Allows(Now));
        var second = await RunAsync(breaker, Ok);
        var third = await RunAsync(breaker, Ok);
        Assert.IsType<BrokenCircuitException>(second.Exception);
        Assert.IsType<BrokenCircuitException>(third.Exception);

        gate.SetResult();
        Assert.Null((await probe).Exception);
        Assert.Equal(CircuitState.Closed, breaker.State);
        Assert.True(breaker.Allows(Now));
    }

    [Fact]
    public async Task A_failed_probe_opens_the_circuit_for_another_break()
    {
        var breaker = Create(throughput: 2, breakSeconds: 5);
        await RunAsync(breaker, Unreachable);
        await RunAsync(breaker, Unreachable);
        _time.Advance(TimeSpan.FromSeconds(5));

        await RunAsync(breaker, Unreachable);

        Assert.Equal(CircuitState.Open, breaker.State);
        Assert.Equal(_time.GetUtcNow().AddSeconds(5), breaker.OpenUntil);
        Assert.Equal(TimeSpan.FromSeconds(5), breaker.RemainingBreak(Now));
    }

    [Fact]
    public async Task A_disabled_breaker_never_opens()
    {
        for (var i = 0; i < 50; i++)
        {
            await RunAsync(InstanceBreaker.Disabled, Unreachable);
        }

        Assert.True(InstanceBreaker.Disabled.Allows(Now));
    }
}
