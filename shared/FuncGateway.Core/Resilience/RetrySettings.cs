using System.Collections.Frozen;
using System.Globalization;

namespace FuncGateway.Resilience;

/// <summary>A route's retry settings, validated and with defaults applied.</summary>
internal sealed record RetrySettings
{
    public const int DefaultMaxRetries = 2;
    public const double DefaultBackoffMilliseconds = 20;
    public const double DefaultMaxBackoffMilliseconds = 500;
    public const bool DefaultRetryOnTimeout = false;
    public const double DefaultBudgetPercent = 20;
    public const double DefaultBudgetMinPerSecond = 10;
    public const int MaxRetriesLimit = 10;
    public static readonly int[] DefaultRetryOnStatus = [502, 503, 504];

    private RetrySettings(int maxRetries, TimeSpan backoff, TimeSpan maxBackoff, IReadOnlyList<int> retryOnStatus, bool retryOnTimeout, double budgetPercent, double budgetMinPerSecond)
    {
        MaxRetries = maxRetries;
        Backoff = backoff;
        MaxBackoff = maxBackoff;
        RetryOnStatus = retryOnStatus.ToFrozenSet();
        RetryOnTimeout = retryOnTimeout;
        BudgetPercent = budgetPercent;
        BudgetMinPerSecond = budgetMinPerSecond;
    }

    public static RetrySettings Default { get; } = new(DefaultMaxRetries, TimeSpan.FromMilliseconds(DefaultBackoffMilliseconds),
        TimeSpan.FromMilliseconds(DefaultMaxBackoffMilliseconds), DefaultRetryOnStatus, DefaultRetryOnTimeout, DefaultBudgetPercent, DefaultBudgetMinPerSecond);

    public int MaxRetries { get; }

    public TimeSpan Backoff { get; }

    public TimeSpan MaxBackoff { get; }

    public FrozenSet<int> RetryOnStatus { get; }

    public bool RetryOnTimeout { get; }

    public double BudgetPercent { get; }

    public double BudgetMinPerSecond { get; }

    /// <summary>Validates <paramref name="definition"/> (null: the defaults); every problem goes to <paramref name="errors"/>.</summary>
    public static RetrySettings? Create(RetryDefinition? definition, List<string> errors)
    {
        if (definition is null)
        {
            return Default;
        }

        var start = errors.Count;
        var maxRetries = definition.MaxRetries ?? DefaultMaxRetries;
        var backoff = definition.BackoffMilliseconds ?? DefaultBackoffMilliseconds;
        var maxBackoff = definition.MaxBackoffMilliseconds ?? Math.Max(DefaultMaxBackoffMilliseconds, backoff);
        var statuses = definition.RetryOnStatus ?? DefaultRetryOnStatus;
        var percent = definition.BudgetPercent ?? DefaultBudgetPercent;
        var minPerSecond = definition.BudgetMinPerSecond ?? DefaultBudgetMinPerSecond;
        if (maxRetries is < 0 or > MaxRetriesLimit)
        {
            errors.Add($"Retries maxRetries {maxRetries} is outside 0–{MaxRetriesLimit}.");
        }

        if (backoff is < 0 or > 10_000 || double.IsNaN(backoff))
        {
            errors.Add($"Retries backoffMilliseconds {Format(backoff)} is outside [0, 10000].");
        }

        if (maxBackoff is < 0 or > 60_000 || double.IsNaN(maxBackoff))
        {
            errors.Add($"Retries maxBackoffMilliseconds {Format(maxBackoff)} is outside [0, 60000].");
        }
        else if (maxBackoff < backoff)
        {
            errors.Add($"Retries maxBackoffMilliseconds {Format(maxBackoff)} is shorter than backoffMilliseconds {Format(backoff)}.");
        }

        foreach (var status in statuses)
        {
            if (status is < 500 or > 599)
            {
                errors.Add($"Retries retryOnStatus {status} is not a 5xx status; only server errors are retried.");
            }
        }

        if (percent is < 0 or > 100 || double.IsNaN(percent))
        {
            errors.Add($"Retries budgetPercent {Format(percent)} is outside [0, 100].");
        }

        if (minPerSecond is < 0 or > 1000 || double.IsNaN(minPerSecond))
        {
            errors.Add($"Retries budgetMinPerSecond {Format(minPerSecond)} is outside [0, 1000].");
        }

        return errors.Count > start
            ? null
            : new RetrySettings(maxRetries, TimeSpan.FromMilliseconds(backoff), TimeSpan.FromMilliseconds(maxBackoff), statuses,
                definition.RetryOnTimeout ?? DefaultRetryOnTimeout, percent, minPerSecond);
    }

    private static string Format(double value) => value.ToString(CultureInfo.InvariantCulture);
}
