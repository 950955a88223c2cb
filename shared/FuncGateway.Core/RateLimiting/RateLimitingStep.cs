using System.Globalization;
using System.Text;
using FuncGateway.Diagnostics;
using FuncGateway.Model;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace FuncGateway.RateLimiting;

/// <summary>
/// Applies a route's rate-limit policies after authentication: every policy must admit the request. A refusal is
/// answered here, 429 <c>rate_limited</c> with <c>Retry-After</c> (or 503 <c>rate_limit_unavailable</c> for a
/// fail-closed policy whose counters are unreachable), before the body is read or the upstream is called. Every
/// response of a limited route carries <c>RateLimit-Policy</c> and <c>RateLimit</c> (IETF httpapi draft).
/// </summary>
internal sealed class RateLimitingStep(ILogger<RateLimitingStep> logger, GatewayTelemetry telemetry) : IGatewayStep
{
    private const string Allowed = "allowed";
    private const string Rejected = "rejected";
    private const string Unavailable = "unavailable";

    public const string PolicyHeaderName = "RateLimit-Policy";
    public const string HeaderName = "RateLimit";

    public GatewayStepOrder Order => GatewayStepOrder.RateLimiting;

    public string ActivityName => GatewayTelemetry.RateLimitActivityName;

    public bool AppliesTo(CompiledRoute route) => route.GetFeature<RouteRateLimits>() is not null;

    public async ValueTask<bool> InvokeAsync(HttpContext context, GatewayRequestFeature feature)
    {
        var limits = feature.Route.GetFeature<RouteRateLimits>();
        if (limits is null)
        {
            return true;
        }

        var policies = limits.Policies;
        var partitions = new PartitionLimiter[policies.Length];
        for (var i = 0; i < policies.Length; i++)
        {
            partitions[i] = policies[i].GetPartition(context);
        }

        var leases = new GatewayRateLimitLease?[policies.Length];
        if (policies.Length > 1)
        {
            // A request one policy already refuses must not spend the others' permits: look (no I/O) before taking.
            for (var i = 0; i < partitions.Length; i++)
            {
                if (partitions[i].IsKnownExhausted(out var wait))
                {
                    leases[i] = GatewayRateLimitLease.Rejected(wait, wait);
                    Record(feature, partitions[i].Policy, Rejected);
                    await RejectAsync(context, feature, limits, partitions, leases, i);
                    return false;
                }
            }
        }

        for (var i = 0; i < partitions.Length; i++)
        {
            var lease = (GatewayRateLimitLease)await partitions[i].AcquireAsync(1, context.RequestAborted);
            leases[i] = lease;
            Record(feature, partitions[i].Policy, lease.IsAcquired ? Allowed : lease.IsUnavailable ? Unavailable : Rejected);
            if (!lease.IsAcquired)
            {
                // Refused: the permits the earlier policies took go back, so one spent limit never drains the others.
                await ReturnAsync(leases, i);
                await RejectAsync(context, feature, limits, partitions, leases, i);
                return false;
            }
        }

        AddHeaders(context, limits, partitions, leases);
        return true;
    }

    /// <summary>Keeps the decision for the request span and the access log, and counts it by policy and mode.</summary>
    private void Record(GatewayRequestFeature feature, RateLimitPolicy policy, string decision)
    {
        feature.RateLimitPolicy = policy.Name;
        feature.RateLimitDecision = decision;
        GatewayTelemetry.TagCurrent(GatewayTelemetry.PolicyTag, policy.Name);
        GatewayTelemetry.TagCurrent(GatewayTelemetry.DecisionTag, decision);
        var counter = telemetry.RateLimitDecisions;
        if (counter.Enabled)
        {
            counter.Add(1,
                new KeyValuePair<string, object?>(GatewayTelemetry.PolicyTag, policy.Name),
                new KeyValuePair<string, object?>(GatewayTelemetry.ModeTag, policy.Mode == RateLimitMode.Fast ? "fast" : "strict"),
                new KeyValuePair<string, object?>(GatewayTelemetry.DecisionTag, decision));
        }
    }

    private static async Task ReturnAsync(GatewayRateLimitLease?[] leases, int refused)
    {
        if (refused == 0)
        {
            return;
        }

        var returns = new Task[refused];
        for (var i = 0; i < refused; i++)
        {
            returns[i] = leases[i]!.ReturnAsync().AsTask();
        }

        await Task.WhenAll(returns);
    }

    private async Task RejectAsync(HttpContext context, GatewayRequestFeature feature, RouteRateLimits limits, PartitionLimiter[] partitions, GatewayRateLimitLease?[] leases, int refused)
    {
        var lease = leases[refused]!;
        var partition = partitions[refused];
        var policy = partition.Policy;
        var retryAfter = Seconds(lease.RetryAfter ?? TimeSpan.FromSeconds(1));
        AddHeaders(context, limits, partitions, leases, returned: refused);
        if (lease.IsUnavailable)
        {
            RateLimitLog.FailedClosed(logger, feature.Route.Definition.Id, policy.Name);
            await GatewayProblem.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, RateLimitProblems.Unavailable,
                "The rate limit of this route cannot be checked right now.",
                $"Policy '{policy.Name}' fails closed while its counters are unreachable; retry after {retryAfter} s.",
                new("Retry-After", retryAfter.ToString(CultureInfo.InvariantCulture)));
            return;
        }

        RateLimitLog.Rejected(logger, feature.Route.Definition.Id, policy.Name, retryAfter);
        var window = partition.Limits.WindowSeconds.ToString(CultureInfo.InvariantCulture);
        var detail = policy.Algorithm == RateLimitAlgorithm.TokenBucket
            ? $"Policy '{policy.Name}' allows bursts of {partition.Limits.Burst} requests, refilled at {partition.Limits.Limit} per {window} s; retry after {retryAfter} s."
            : $"Policy '{policy.Name}' allows {partition.Limits.Limit} requests per {window} s; retry after {retryAfter} s.";
        await GatewayProblem.WriteAsync(context, StatusCodes.Status429TooManyRequests, RateLimitProblems.RateLimited,
            "Too many requests.", detail, new("Retry-After", retryAfter.ToString(CultureInfo.InvariantCulture)));
    }

    /// <summary>
    /// Sets <c>RateLimit-Policy</c> (<c>"name";q=100;w=60</c>) and <c>RateLimit</c> (<c>"name";r=42;t=17</c>) when the
    /// response starts, after anything the upstream sent (appended, as structured-field lists combine), and after a
    /// problem response cleared the headers. The first <paramref name="returned"/> leases were handed back (a later
    /// policy refused): each has one permit more left than it says.
    /// </summary>
    private static void AddHeaders(HttpContext context, RouteRateLimits limits, PartitionLimiter[] partitions, GatewayRateLimitLease?[] leases, int returned = 0)
    {
        var policyHeader = limits.TierDependent ? string.Join(", ", partitions.Select(static p => p.Limits.PolicyHeaderItem)) : limits.PolicyHeader;
        var builder = new StringBuilder();
        for (var i = 0; i < leases.Length; i++)
        {
            if (leases[i] is not { } lease || (lease.IsAcquired && lease.Remaining < 0) || lease.IsUnavailable)
            {
                continue;
            }

            if (builder.Length > 0)
            {
                builder.Append(", ");
            }

            var remaining = !lease.IsAcquired ? 0 : i < returned ? Math.Min(lease.Remaining + 1, partitions[i].Limits.Burst) : lease.Remaining;
            builder.Append('"').Append(partitions[i].Policy.Name).Append("\";r=")
                .Append(remaining.ToString(CultureInfo.InvariantCulture))
                .Append(";t=").Append(CeilingSeconds(lease.IsAcquired ? lease.Reset : lease.RetryAfter ?? lease.Reset).ToString(CultureInfo.InvariantCulture));
        }

        var state = new HeaderValues(context.Response, policyHeader, builder.Length > 0 ? builder.ToString() : null);
        context.Response.OnStarting(static s =>
        {
            var values = (HeaderValues)s;
            var headers = values.Response.Headers;
            headers.Append(PolicyHeaderName, values.Policy);
            if (values.Limit is not null)
            {
                headers.Append(HeaderName, values.Limit);
            }

            return Task.CompletedTask;
        }, state);
    }

    /// <summary>Retry-After in whole seconds, at least 1 (0 would invite an immediate retry that fails again).</summary>
    private static long Seconds(TimeSpan value) => Math.Max(1, CeilingSeconds(value));

    private static long CeilingSeconds(TimeSpan value) => Math.Max(0, (long)Math.Ceiling(value.TotalSeconds));

    private sealed record HeaderValues(HttpResponse Response, string Policy, string? Limit);
}
