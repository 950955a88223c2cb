using FuncGateway.Resilience;
using Microsoft.Extensions.Logging;

namespace FuncGateway.Forwarding;

/// <summary>
/// The gateway's transformer (<see cref="GatewayHttpTransformer"/>) for one request's <see cref="ForwardAttempt"/>,
/// which it is given, plus one decision: a retryable 5xx response is not copied to the client when the request can
/// still go to another instance. Returning false before anything is copied leaves the client's response untouched,
/// so the next attempt starts clean. One per request, shared by its attempts.
/// </summary>
internal sealed class ResilientHttpTransformer(ForwardAttempt attempt, long maxBufferedResponseBytes, ILogger logger)
    : GatewayHttpTransformer(attempt.Feature, maxBufferedResponseBytes, logger)
{
    protected override ValueTask<bool> HoldBackAsync(HttpResponseMessage proxyResponse, CancellationToken cancellationToken) =>
        attempt.TryHoldBackAsync(proxyResponse, cancellationToken);

    protected override void OnRefused() => attempt.MarkRefused();

    protected override void OnUpstreamStatus(int status) => attempt.RecordUpstreamStatus(status);
}
