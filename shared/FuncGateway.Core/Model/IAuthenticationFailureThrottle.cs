using System.Net;

namespace FuncGateway.Model;

/// <summary>
/// The hook through which authentication asks the rate limiter whether a client that keeps failing to
/// authenticate must wait. A capability that throttles adds one; with none, everyone may try.
/// </summary>
internal interface IAuthenticationFailureThrottle
{
    /// <summary>How long the client must wait before trying again, or null when it may try now.</summary>
    ValueTask<TimeSpan?> CheckAsync(IPAddress? client, CancellationToken cancellationToken);

    /// <summary>Counts one failed authentication of the client.</summary>
    ValueTask RecordFailureAsync(IPAddress? client, CancellationToken cancellationToken);
}

/// <summary>No throttling: every attempt is allowed.</summary>
internal sealed class NoAuthenticationFailureThrottle : IAuthenticationFailureThrottle
{
    public ValueTask<TimeSpan?> CheckAsync(IPAddress? client, CancellationToken cancellationToken) => ValueTask.FromResult<TimeSpan?>(null);

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
        public async ValueTask<TimeSpan?> CheckAsync(IPAddress? client, CancellationToken cancellationToken)
        {
            TimeSpan? longest = null;
            foreach (var throttle in throttles)
            {
                if (await throttle.CheckAsync(client, cancellationToken) is { } wait && (longest is null || wait > longest))
                {
                    longest = wait;
                }
            }

            return longest;
        }

        public async ValueTask RecordFailureAsync(IPAddress? client, CancellationToken cancellationToken)
        {
            foreach (var throttle in throttles)
            {
                await throttle.RecordFailureAsync(client, cancellationToken);
            }
        }
    }
}
