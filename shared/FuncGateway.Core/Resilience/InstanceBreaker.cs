using FuncGateway.Diagnostics;
using FuncGateway.Model;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.CircuitBreaker;

namespace FuncGateway.Resilience;

/// <summary>
/// One instance's circuit breaker: a Polly v8 circuit breaker over forwarding attempts, plus a lock-free mirror of
/// its state that routing reads for every request (Polly's own state provider takes a lock). Open: the instance is
/// out of rotation until the break ends; then one request is let through as a half-open probe, whose result closes
/// or re-opens the circuit. Only what <see cref="AttemptResult.CountsAsFailure"/> says counts: 5xx, timeouts and
/// transport errors, never the client's 4xx.
/// </summary>
internal sealed class InstanceBreaker : IInstanceGate
{
    private readonly TimeProvider _time;
    private readonly CircuitBreakerManualControl? _control;
    private volatile int _state;
    private long _openUntilTicks;

    private InstanceBreaker()
    {
        Settings = CircuitBreakerSettings.Default with { Enabled = false };
        Pipeline = ResiliencePipeline<AttemptResult>.Empty;
        _time = TimeProvider.System;
    }

    public InstanceBreaker(string pool, string url, CircuitBreakerSettings settings, TimeProvider time, ILogger logger,
        GatewayTelemetry? telemetry = null)
    {
        Settings = settings;
        _time = time;
        _control = new CircuitBreakerManualControl();

        // No Polly telemetry here: it would count a PipelineExecuting event for every attempt (what
        // funcgateway.upstream.attempt.duration counts already) at a cost on every request, and the breaker's own
        // events are funcgateway.circuit.transitions below, with the pool and instance as tags.
        Pipeline = new ResiliencePipelineBuilder<AttemptResult> { TimeProvider = time, Name = pool, InstanceName = url }
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions<AttemptResult>
            {
                FailureRatio = settings.FailureRatio,
                MinimumThroughput = settings.MinimumThroughput,
                SamplingDuration = settings.SamplingDuration,
                BreakDuration = settings.BreakDuration,
                ManualControl = _control,

                // An exception here is a gateway bug, not the upstream's fault.
                ShouldHandle = static args => ValueTask.FromResult(args.Outcome.Exception is null && args.Outcome.Result.CountsAsFailure),
                OnOpened = args =>
                {
                    Volatile.Write(ref _openUntilTicks, (_time.GetUtcNow() + args.BreakDuration).UtcTicks);
                    _state = (int)CircuitState.Open;
                    ResilienceLog.CircuitOpened(logger, pool, url, args.BreakDuration.TotalSeconds);
                    Transitioned(telemetry, pool, url, "open");
                    return default;
                },
                OnHalfOpened = _ =>
                {
                    _state = (int)CircuitState.HalfOpen;
                    ResilienceLog.CircuitHalfOpened(logger, pool, url);
                    Transitioned(telemetry, pool, url, "half_open");
                    return default;
                },
                OnClosed = _ =>
                {
                    _state = (int)CircuitState.Closed;
                    ResilienceLog.CircuitClosed(logger, pool, url);
                    Transitioned(telemetry, pool, url, "closed");
                    return default;
                },
            })
            .Build();
    }

    private static void Transitioned(GatewayTelemetry? telemetry, string pool, string url, string state)
    {
        if (telemetry?.CircuitTransitions is { Enabled: true } counter)
        {
            counter.Add(1,
                new KeyValuePair<string, object?>(GatewayTelemetry.PoolTag, pool),
                new KeyValuePair<string, object?>(GatewayTelemetry.InstanceTag, url),
                new KeyValuePair<string, object?>(GatewayTelemetry.StateTag, state));
        }
    }

    /// <summary>
    /// Called when an attempt on the instance got its response headers. A half-open circuit closes on a status below
    /// 500 at once, instead of when the attempt ends: the probe may be a download, server-sent events or a WebSocket
    /// that streams for hours, and until it ended every other request would be refused the instance.
    /// </summary>
    public void OnResponseHeaders(int status)
    {
        if (status < 500 && _control is not null && (CircuitState)_state == CircuitState.HalfOpen)
        {
            // Polly runs the close (and OnClosed) on its own; nothing here can fail the request.
            _ = _control.CloseAsync(CancellationToken.None);
        }
    }

    /// <summary>A breaker that never opens (the pool turned it off).</summary>
    public static InstanceBreaker Disabled { get; } = new();

    public CircuitBreakerSettings Settings { get; }

    public ResiliencePipeline<AttemptResult> Pipeline { get; }

    public CircuitState State => (CircuitState)_state;

    /// <summary>When an open circuit lets its next probe through; null unless open.</summary>
    public DateTimeOffset? OpenUntil => State == CircuitState.Open ? new DateTimeOffset(Volatile.Read(ref _openUntilTicks), TimeSpan.Zero) : null;

    /// <summary>True when a request may be sent: closed, or open with the break over (the request becomes the probe).</summary>
    public bool Allows(long nowUtcTicks) => (CircuitState)_state switch
    {
        CircuitState.Closed => true,
        CircuitState.Open => nowUtcTicks >= Volatile.Read(ref _openUntilTicks),
        _ => false,
    };

    /// <summary>Time until the circuit may let a probe through (zero when it may now).</summary>
    /// <inheritdoc/>
    public TimeSpan RetryAfter(long nowUtcTicks) =>
        !Allows(nowUtcTicks) || State != CircuitState.Closed ? RemainingBreak(nowUtcTicks) : TimeSpan.Zero;

    public TimeSpan RemainingBreak(long nowUtcTicks) => (CircuitState)_state switch
    {
        CircuitState.Open => TimeSpan.FromTicks(Math.Max(0, Volatile.Read(ref _openUntilTicks) - nowUtcTicks)),
        CircuitState.HalfOpen => TimeSpan.FromSeconds(1),
        _ => TimeSpan.Zero,
    };
}
