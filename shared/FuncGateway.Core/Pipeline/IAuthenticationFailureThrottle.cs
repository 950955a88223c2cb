using System.Net;

namespace FuncGateway.Pipeline;

/// <summary>
/// The hook through which authentication asks the rate limiter whether a client that keeps failing to
/// authenticate must wait. The default lets everyone try; the rate limiter replaces it.
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
