using FuncGateway.Model;
using System.Net;

namespace FuncGateway.RateLimiting;

/// <summary>
/// Failed authentications per client IP, counted by the same distributed limiter as routes
/// (<c>FuncGateway:RateLimits:AuthenticationFailures</c>). <see cref="CheckAsync"/> never does I/O: it answers from
/// what this instance knows; each recorded failure updates the shared count and teaches this instance when the IP's
/// allowance is spent, so across N instances a client gets at most the limit plus one attempt per instance (plus
/// what is in flight) before every instance makes it wait.
/// </summary>
internal sealed class AuthenticationFailureThrottle(RateLimiterRegistry registry, RateLimitRuntime runtime) : IAuthenticationFailureThrottle
{
    public ValueTask<TimeSpan?> CheckAsync(IPAddress? client, CancellationToken cancellationToken)
    {
        if (registry.AuthenticationFailures is not { } limiter)
        {
            return ValueTask.FromResult<TimeSpan?>(null);
        }

        var partition = limiter.GetPartition(client);
        if (partition.IsKnownExhausted(out var wait))
        {
            return ValueTask.FromResult<TimeSpan?>(wait);
        }

        // Storage down and the throttle fails closed: nobody may try (that is what fail-closed means).
        if (limiter.Policy.FailurePolicy == RateLimitFailurePolicy.FailClosed && runtime.Health.IsOpen(runtime.NowMs))
        {
            return ValueTask.FromResult<TimeSpan?>(runtime.Health.Backoff);
        }

        return ValueTask.FromResult<TimeSpan?>(null);
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
