using System.Collections.Concurrent;
using FuncGateway.Model;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;
using Polly.Telemetry;

namespace FuncGateway.Resilience;

/// <summary>
/// A route's retries and fallback, compiled when the snapshot is built: the Polly retry pipeline, the retry budget
/// and the encoded fallback response.
/// </summary>
internal sealed class RouteResilience
{
    /// <summary>How <see cref="ForwardAttempt"/> reaches itself from Polly's predicates.</summary>
    internal static readonly ResiliencePropertyKey<ForwardAttempt> AttemptKey = new("FuncGateway.ForwardAttempt");

    public RouteResilience(string routeId, RetrySettings retry, StaticResponse? fallback, TimeProvider time, ILogger logger, Func<double>? randomizer = null, TelemetryOptions? pollyTelemetry = null)
        : this(routeId, retry, fallback, time, logger, CreatePipeline(retry, time, logger, randomizer, pollyTelemetry))
    {
    }

    internal RouteResilience(string routeId, RetrySettings retry, StaticResponse? fallback, TimeProvider time, ILogger logger, ResiliencePipeline<AttemptResult> pipeline)
    {
        RouteId = routeId;
        Logger = logger;
        Retry = retry;
        Fallback = fallback;
        Budget = new RetryBudget(retry.BudgetPercent, retry.BudgetMinPerSecond, time);
        Pipeline = pipeline;
    }

    /// <summary>
    /// The Polly retry pipeline of <paramref name="retry"/>'s count and backoff. It holds nothing of a route: the route
    /// comes with each execution (the attempt in the context's properties, its id as the operation key), so routes with
    /// the same settings share one pipeline (<see cref="RouteResilienceCompiler"/>).
    /// </summary>
    internal static ResiliencePipeline<AttemptResult> CreatePipeline(RetrySettings retry, TimeProvider time, ILogger logger, Func<double>? randomizer, TelemetryOptions? pollyTelemetry)
    {
        if (retry.MaxRetries == 0)
        {
            return ResiliencePipeline<AttemptResult>.Empty;
        }

        var options = new RetryStrategyOptions<AttemptResult>
        {
            MaxRetryAttempts = retry.MaxRetries,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = retry.Backoff,
            MaxDelay = retry.MaxBackoff,
            ShouldHandle = static args => ValueTask.FromResult(args.Outcome.Exception is null
                && args.Context.Properties.TryGetValue(AttemptKey, out var attempt)
                && attempt.ShouldRetry(args.Outcome.Result, args.AttemptNumber)),
            OnRetry = args =>
            {
                if (args.Context.Properties.TryGetValue(AttemptKey, out var attempt))
                {
                    ResilienceLog.Retrying(logger, args.Context.OperationKey ?? "", args.AttemptNumber + 2, args.Outcome.Result.Outcome == AttemptOutcome.HeldBack
                        ? "status " + attempt.HeldBackStatus : args.Outcome.Result.Error.ToString(), attempt.LastDestination ?? "", args.RetryDelay.TotalMilliseconds);
                }

                return default;
            },
        };
        if (randomizer is not null)
        {
            options.Randomizer = randomizer;
        }

        var builder = new ResiliencePipelineBuilder<AttemptResult> { TimeProvider = time, Name = "route-retries" };
        if (pollyTelemetry is not null)
        {
            builder.ConfigureTelemetry(pollyTelemetry);
        }

        return builder.AddRetry(options).Build();
    }

    public string RouteId { get; }

    public ILogger Logger { get; }

    public RetrySettings Retry { get; }

    public StaticResponse? Fallback { get; }

    public RetryBudget Budget { get; }

    /// <summary>The retry pipeline (Empty when the route does not retry).</summary>
    public ResiliencePipeline<AttemptResult> Pipeline { get; }
}

/// <summary>Compiles a route's <c>Retries</c> and <c>Fallback</c> into a <see cref="RouteResilience"/> (every route gets one: defaults when unset).</summary>
internal sealed class RouteResilienceCompiler(TimeProvider time, ILogger<RouteResilience> logger, Func<double>? randomizer = null, TelemetryOptions? pollyTelemetry = null) : IRouteFeatureCompiler
{
    /// <summary>Past this many distinct retry shapes, further ones get a pipeline of their own instead of a shared one.</summary>
    internal const int MaxSharedPipelines = 256;

    // One Polly pipeline per retry shape, shared by every route (and snapshot) with it: a pipeline is about 650 bytes
    // in ten objects, which 10,000 routes would otherwise hold 10,000 times over. Each route keeps its own budget.
    private readonly ConcurrentDictionary<(int MaxRetries, TimeSpan Backoff, TimeSpan MaxBackoff), ResiliencePipeline<AttemptResult>> _pipelines = new();

    public object? Compile(RouteDefinition route, List<string> errors)
    {
        var retry = RetrySettings.Create(route.Get(ResilienceProperties.Retries), errors);
        var fallback = FallbackResponse.Create(route.Get(ResilienceProperties.Fallback), errors);
        return retry is null ? null : new RouteResilience(route.Id, retry, fallback, time, logger, PipelineFor(retry));
    }

    internal ResiliencePipeline<AttemptResult> PipelineFor(RetrySettings retry)
    {
        var key = (retry.MaxRetries, retry.Backoff, retry.MaxBackoff);
        if (_pipelines.TryGetValue(key, out var shared))
        {
            return shared;
        }

        var pipeline = RouteResilience.CreatePipeline(retry, time, logger, randomizer, pollyTelemetry);
        return _pipelines.Count < MaxSharedPipelines ? _pipelines.GetOrAdd(key, pipeline) : pipeline;
    }
}
