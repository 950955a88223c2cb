using System.Net;

namespace FuncGateway.Model;

/// <summary>
/// The hook through which authentication asks the rate limiter whether a client that keeps failing to
/// authenticate must wait. A capability that throttles adds one; with none, everyone may try.
/// </summary>
internal interface IAuthenticationFailureThrottle
{
    /// <summary>
    /// How long the client must wait before trying again, or none when it may try now. An attempt let through holds a
    /// place among the client's attempts being checked until its <see cref="ThrottleDecision.Attempt"/> is ended, so
    /// guesses sent all at once cannot all pass before the first failure is counted.
    /// </summary>
    ValueTask<ThrottleDecision> CheckAsync(IPAddress? client, CancellationToken cancellationToken);

    /// <summary>Counts one failed authentication of the client.</summary>
    ValueTask RecordFailureAsync(IPAddress? client, CancellationToken cancellationToken);
}

/// <summary>An attempt let through by a throttle, in progress until <see cref="End"/> (called once).</summary>
internal interface IThrottledAttempt
{
    void End();
}

/// <summary>What a throttle says: wait this long, or go ahead and end <paramref name="Attempt"/> when done.</summary>
internal readonly record struct ThrottleDecision(TimeSpan? Wait, IThrottledAttempt? Attempt)
{
    public static ThrottleDecision Go => default;

    public static ThrottleDecision WaitFor(TimeSpan wait) => new(wait, null);
}

/// <summary>No throttling: every attempt is allowed.</summary>
internal sealed class NoAuthenticationFailureThrottle : IAuthenticationFailureThrottle
{
    public ValueTask<ThrottleDecision> CheckAsync(IPAddress? client, CancellationToken cancellationToken) => ValueTask.FromResult(ThrottleDecision.Go);

    public ValueTask RecordFailureAsync(IPAddress? client, CancellationToken cancellationToken) => ValueTask.CompletedTask;
}

/// <summary>What authentication consults: every registered throttle (none: no throttling).</summary>
internal static class AuthenticationFailureThrottles
{
    public static IAuthenticationFailureThrottle Combine(IEnumerable<IAuthenticationFailureThrottle> throttles)
    {
        ArgumentNullException.ThrowIfNull(throttles);
        IAuthenticationFailureThrottle[] all = [.. throttles];
        return all.Length switch
        {
            0 => new NoAuthenticationFailureThrottle(),
            1 => all[0],
            _ => new CombinedThrottle(all),
        };
    }

    /// <summary>Every throttle counts each failure; a client waits as long as the strictest says.</summary>
    private sealed class CombinedThrottle(IAuthenticationFailureThrottle[] throttles) : IAuthenticationFailureThrottle
    {
        public async ValueTask<ThrottleDecision> CheckAsync(IPAddress? client, CancellationToken cancellationToken)
        {
            TimeSpan? longest = null;
            var attempts = new List<IThrottledAttempt>(throttles.Length);
            foreach (var throttle in throttles)
            {
                var decision = await throttle.CheckAsync(client, cancellationToken);
                if (decision.Wait is { } wait && (longest is null || wait > longest))
                {
                    longest = wait;
                }

                if (decision.Attempt is { } attempt)
                {
                    attempts.Add(attempt);
                }
            }

            if (longest is not null)
            {
                foreach (var attempt in attempts)
                {
                    attempt.End();
                }

                return ThrottleDecision.WaitFor(longest.Value);
            }

            return new ThrottleDecision(null, attempts.Count == 0 ? null : new Attempts([.. attempts]));
        }

        public async ValueTask RecordFailureAsync(IPAddress? client, CancellationToken cancellationToken)
        {
            foreach (var throttle in throttles)
            {
                await throttle.RecordFailureAsync(client, cancellationToken);
            }
        }

        private sealed class Attempts(IThrottledAttempt[] attempts) : IThrottledAttempt
        {
            public void End()
            {
                foreach (var attempt in attempts)
                {
                    attempt.End();
                }
            }
        }
    }
}
