using FuncGateway.Model;
using System.Net;

namespace FuncGateway.RateLimiting;

/// <summary>
/// Failed authentications per client IP, counted by the same distributed limiter as routes
/// (<c>FuncGateway:RateLimits:AuthenticationFailures</c>). <see cref="CheckAsync"/> never does I/O: it answers from
/// what this instance knows; each recorded failure updates the shared count and teaches this instance when the IP's
/// allowance is spent. At most the limit's worth of one client's attempts are checked at a time on an instance (the
/// rest wait their turn), so a client gets at most about twice the limit per instance before every instance makes it
/// wait, however many guesses it sends at once.
/// </summary>
internal sealed class AuthenticationFailureThrottle(RateLimiterRegistry registry, RateLimitRuntime runtime) : IAuthenticationFailureThrottle
{
    public ValueTask<ThrottleDecision> CheckAsync(IPAddress? client, CancellationToken cancellationToken)
    {
        if (registry.AuthenticationFailures is not { } limiter)
        {
            return ValueTask.FromResult(ThrottleDecision.Go);
        }

        var partition = limiter.GetPartition(client);
        if (partition.IsKnownExhausted(out var wait))
        {
            return ValueTask.FromResult(ThrottleDecision.WaitFor(wait));
        }

        // Storage down and the throttle fails closed: nobody may try (that is what fail-closed means).
        if (limiter.Policy.FailurePolicy == RateLimitFailurePolicy.FailClosed && runtime.Health.IsOpen(runtime.NowMs))
        {
            return ValueTask.FromResult(ThrottleDecision.WaitFor(runtime.Health.Backoff));
        }

        // Failures are counted only once checked: without a cap, guesses sent all at once would all pass here. Past
        // the cap an attempt waits (never refused for it: a client with valid credentials only waits its turn).
        var begin = partition.BeginAttemptAsync(cancellationToken);
        return begin.IsCompletedSuccessfully ? ValueTask.FromResult(new ThrottleDecision(null, partition)) : AfterWaitAsync(begin, partition);
    }

    /// <summary>An attempt that waited for its place: the failures counted meanwhile may have spent the allowance.</summary>
    private static async ValueTask<ThrottleDecision> AfterWaitAsync(ValueTask begin, PartitionLimiter partition)
    {
        await begin;
        if (partition.IsKnownExhausted(out var wait))
        {
            ((IThrottledAttempt)partition).End();
            return ThrottleDecision.WaitFor(wait);
        }

        return new ThrottleDecision(null, partition);
    }

    public async ValueTask RecordFailureAsync(IPAddress? client, CancellationToken cancellationToken)
    {
        if (registry.AuthenticationFailures is not { } limiter)
        {
            return;
        }

        // Spending a permit is the count; a refusal is what makes CheckAsync say "wait" from now on.
        using var lease = await limiter.GetPartition(client).AcquireAsync(1, cancellationToken);
    }
}
