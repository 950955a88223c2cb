namespace FuncGateway.Health;

/// <summary>What active health checking concluded about an instance.</summary>
internal enum HealthState
{
    /// <summary>Not probed enough yet to say; routed to.</summary>
    Unknown,

    /// <summary>Passing its probes; routed to.</summary>
    Healthy,

    /// <summary>Failed <c>unhealthyThreshold</c> probes in a row; out of rotation until <c>healthyThreshold</c> pass.</summary>
    Unhealthy,
}

/// <summary>One row of the Health table: the probe results of one instance of one pool.</summary>
/// <param name="Pool">The pool name (the row's PartitionKey).</param>
/// <param name="Url">The instance URL (the row's RowKey, escaped).</param>
/// <param name="State">The state after hysteresis.</param>
/// <param name="ConsecutiveSuccesses">Successful probes in a row (0 after a failure).</param>
/// <param name="ConsecutiveFailures">Failed probes in a row (0 after a success).</param>
/// <param name="LatencyMs">How long the last probe took.</param>
/// <param name="LastStatus">The last probe's HTTP status, if it got one.</param>
/// <param name="LastError">Why the last probe failed; null when it passed.</param>
/// <param name="ProbedAt">When the last probe started.</param>
/// <param name="StateChangedAt">When <paramref name="State"/> last changed.</param>
/// <param name="ProbedBy">Which gateway instance probed.</param>
internal sealed record HealthRecord(
    string Pool,
    string Url,
    HealthState State,
    int ConsecutiveSuccesses,
    int ConsecutiveFailures,
    double? LatencyMs,
    int? LastStatus,
    string? LastError,
    DateTimeOffset ProbedAt,
    DateTimeOffset StateChangedAt,
    string? ProbedBy);

/// <summary>The result of one probe.</summary>
internal readonly record struct ProbeResult(bool Success, int? Status, double LatencyMs, string? Error, DateTimeOffset StartedAt);

/// <summary>Hysteresis: how a probe result moves an instance's state.</summary>
internal static class HealthEvaluator
{
    /// <summary>
    /// The record after <paramref name="result"/>. A down instance needs <c>HealthyThreshold</c> passes in a row to
    /// come back and an up one <c>UnhealthyThreshold</c> failures in a row to go down, so an instance that flaps
    /// between pass and fail keeps its state. An unknown instance is healthy after one pass.
    /// </summary>
    public static HealthRecord Next(HealthRecord? previous, string pool, string url, ProbeResult result, HealthCheckSettings settings, string prober)
    {
        var state = previous?.State ?? HealthState.Unknown;
        var successes = result.Success ? (previous?.ConsecutiveSuccesses ?? 0) + 1 : 0;
        var failures = result.Success ? 0 : (previous?.ConsecutiveFailures ?? 0) + 1;
        var next = state switch
        {
            HealthState.Unhealthy when successes >= settings.HealthyThreshold => HealthState.Healthy,
            HealthState.Unknown when successes >= 1 => HealthState.Healthy,
            HealthState.Healthy or HealthState.Unknown when failures >= settings.UnhealthyThreshold => HealthState.Unhealthy,
            _ => state,
        };
        var changedAt = previous is null || next != state ? result.StartedAt : previous.StateChangedAt;
        return new HealthRecord(pool, url, next, Math.Min(successes, 1_000_000), Math.Min(failures, 1_000_000),
            Math.Round(result.LatencyMs, 2), result.Status, result.Success ? null : result.Error, result.StartedAt, changedAt, prober);
    }
}
