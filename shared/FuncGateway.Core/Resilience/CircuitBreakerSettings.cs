using System.Globalization;

namespace FuncGateway.Resilience;

/// <summary>A pool's circuit-breaker settings, validated and with defaults applied. Equal settings share a breaker across snapshots.</summary>
internal sealed record CircuitBreakerSettings(bool Enabled, double FailureRatio, int MinimumThroughput, TimeSpan SamplingDuration, TimeSpan BreakDuration)
{
    public const double DefaultFailureRatio = 0.5;
    public const int DefaultMinimumThroughput = 10;
    public const double DefaultSamplingSeconds = 30;
    public const double DefaultBreakSeconds = 10;

    // Polly's own bounds for the sampling window and the break.
    private const double MinSeconds = 0.5;
    private const double MaxSeconds = 3600;

    public static CircuitBreakerSettings Default { get; } = new(true, DefaultFailureRatio, DefaultMinimumThroughput,
        TimeSpan.FromSeconds(DefaultSamplingSeconds), TimeSpan.FromSeconds(DefaultBreakSeconds));

    /// <summary>Validates <paramref name="definition"/> (null: the defaults); every problem goes to <paramref name="errors"/>.</summary>
    public static CircuitBreakerSettings? Create(CircuitBreakerDefinition? definition, List<string> errors)
    {
        if (definition is null)
        {
            return Default;
        }

        var start = errors.Count;
        var ratio = definition.FailureRatio ?? DefaultFailureRatio;
        var throughput = definition.MinimumThroughput ?? DefaultMinimumThroughput;
        var sampling = definition.SamplingSeconds ?? DefaultSamplingSeconds;
        var breakSeconds = definition.BreakSeconds ?? DefaultBreakSeconds;
        if (ratio is <= 0 or > 1 || double.IsNaN(ratio))
        {
            errors.Add($"CircuitBreaker failureRatio {Format(ratio)} is outside (0, 1].");
        }

        if (throughput is < 2 or > 1_000_000)
        {
            errors.Add($"CircuitBreaker minimumThroughput {throughput} is outside 2–1000000.");
        }

        if (sampling is < MinSeconds or > MaxSeconds || double.IsNaN(sampling))
        {
            errors.Add($"CircuitBreaker samplingSeconds {Format(sampling)} is outside [{Format(MinSeconds)}, {Format(MaxSeconds)}].");
        }

        if (breakSeconds is < MinSeconds or > MaxSeconds || double.IsNaN(breakSeconds))
        {
            errors.Add($"CircuitBreaker breakSeconds {Format(breakSeconds)} is outside [{Format(MinSeconds)}, {Format(MaxSeconds)}].");
        }

        return errors.Count > start
            ? null
            : new CircuitBreakerSettings(definition.Enabled ?? true, ratio, throughput, TimeSpan.FromSeconds(sampling), TimeSpan.FromSeconds(breakSeconds));
    }

    private static string Format(double value) => value.ToString(CultureInfo.InvariantCulture);
}
