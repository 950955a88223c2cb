using System.Globalization;

using FuncGateway.Model;

namespace FuncGateway.Health;

/// <summary>A pool's health-check settings, validated and with defaults applied.</summary>
internal sealed record HealthCheckSettings
{
    public const string DefaultPath = "/health";
    public const string DefaultExpectedStatus = "200-299";
    public const double DefaultTimeoutSeconds = 2;
    public const double DefaultIntervalSeconds = 10;
    public const int DefaultUnhealthyThreshold = 3;
    public const int DefaultHealthyThreshold = 2;

    private const double MinIntervalSeconds = 0.2;
    private const double MaxIntervalSeconds = 3600;
    private const double MaxTimeoutSeconds = 60;
    private const int MaxThreshold = 100;

    private HealthCheckSettings(string path, IReadOnlyList<(int From, int To)> expected, string expectedText, TimeSpan timeout, TimeSpan interval, int unhealthy, int healthy)
    {
        Path = path;
        Expected = expected;
        ExpectedStatus = expectedText;
        Timeout = timeout;
        Interval = interval;
        UnhealthyThreshold = unhealthy;
        HealthyThreshold = healthy;

        // An instance whose last result is this old is treated as unknown: a prober that stopped must not pin
        // instances out of rotation forever.
        StaleAfter = TimeSpan.FromTicks(Math.Max(interval.Ticks * 3, interval.Ticks + TimeSpan.TicksPerMinute));
    }

    public string Path { get; }

    public string ExpectedStatus { get; }

    public TimeSpan Timeout { get; }

    public TimeSpan Interval { get; }

    public int UnhealthyThreshold { get; }

    public int HealthyThreshold { get; }

    /// <summary>Results older than this are ignored by routing.</summary>
    public TimeSpan StaleAfter { get; }

    private IReadOnlyList<(int From, int To)> Expected { get; }

    public bool IsExpected(int status)
    {
        foreach (var (from, to) in Expected)
        {
            if (status >= from && status <= to)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Validates <paramref name="definition"/>; every problem goes to <paramref name="errors"/> (prefixed <c>HealthCheck</c>).</summary>
    public static HealthCheckSettings? Create(HealthCheckDefinition definition, List<string> errors)
    {
        var start = errors.Count;
        var path = definition.Path ?? DefaultPath;
        if (!path.StartsWith('/') || path.StartsWith("//", StringComparison.Ordinal) || path.Contains('#', StringComparison.Ordinal)
            || path.Any(char.IsControl) || path.Contains(' ', StringComparison.Ordinal) || !Uri.IsWellFormedUriString(path, UriKind.Relative))
        {
            errors.Add($"HealthCheck path '{PrintableText.Of(path)}' must be a path starting with '/' (an optional query allowed), e.g. /health.");
        }

        var expectedText = definition.ExpectedStatus ?? DefaultExpectedStatus;
        var expected = ParseStatuses(expectedText, errors);

        var timeout = definition.TimeoutSeconds ?? DefaultTimeoutSeconds;
        var interval = definition.IntervalSeconds ?? DefaultIntervalSeconds;
        if (interval is < MinIntervalSeconds or > MaxIntervalSeconds || double.IsNaN(interval))
        {
            errors.Add($"HealthCheck intervalSeconds {Format(interval)} is outside [{Format(MinIntervalSeconds)}, {Format(MaxIntervalSeconds)}].");
        }

        if (timeout is <= 0 or > MaxTimeoutSeconds || double.IsNaN(timeout))
        {
            errors.Add($"HealthCheck timeoutSeconds {Format(timeout)} is outside (0, {Format(MaxTimeoutSeconds)}].");
        }
        else if (timeout > interval)
        {
            errors.Add($"HealthCheck timeoutSeconds {Format(timeout)} is longer than intervalSeconds {Format(interval)}.");
        }

        var unhealthy = definition.UnhealthyThreshold ?? DefaultUnhealthyThreshold;
        var healthy = definition.HealthyThreshold ?? DefaultHealthyThreshold;
        if (unhealthy is < 1 or > MaxThreshold)
        {
            errors.Add($"HealthCheck unhealthyThreshold {unhealthy} is outside 1–{MaxThreshold}.");
        }

        if (healthy is < 1 or > MaxThreshold)
        {
            errors.Add($"HealthCheck healthyThreshold {healthy} is outside 1–{MaxThreshold}.");
        }

        return errors.Count > start
            ? null
            : new HealthCheckSettings(path, expected, expectedText, TimeSpan.FromSeconds(timeout), TimeSpan.FromSeconds(interval), unhealthy, healthy);
    }

    private static List<(int, int)> ParseStatuses(string text, List<string> errors)
    {
        var result = new List<(int, int)>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            var dash = part.IndexOf('-', StringComparison.Ordinal);
            var fromText = dash < 0 ? part : part[..dash].Trim();
            var toText = dash < 0 ? part : part[(dash + 1)..].Trim();
            if (!int.TryParse(fromText, NumberStyles.None, CultureInfo.InvariantCulture, out var from)
                || !int.TryParse(toText, NumberStyles.None, CultureInfo.InvariantCulture, out var to)
                || from is < 100 or > 599 || to is < 100 or > 599 || from > to)
            {
                errors.Add($"HealthCheck expectedStatus '{PrintableText.Of(text)}' must be statuses or ranges within 100–599, e.g. \"200\", \"200-299\" or \"200,204,300-399\".");
                return result;
            }

            result.Add((from, to));
        }

        return result;
    }

    private static string Format(double value) => value.ToString(CultureInfo.InvariantCulture);
}
