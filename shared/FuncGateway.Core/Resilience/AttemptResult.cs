using Yarp.ReverseProxy.Forwarder;

namespace FuncGateway.Resilience;

/// <summary>How one attempt to forward a request ended.</summary>
internal enum AttemptOutcome
{
    /// <summary>The upstream's response went to the client (or the client went away).</summary>
    Completed,

    /// <summary>No usable response: transport error or timeout before the response started.</summary>
    Failed,

    /// <summary>The upstream answered with a retryable 5xx that was held back to try another instance.</summary>
    HeldBack,

    /// <summary>No instance was available to try.</summary>
    NoInstance,
}

/// <summary>The outcome of one attempt: what the breaker counts and what the retry strategy decides on.</summary>
/// <param name="Outcome">How the attempt ended.</param>
/// <param name="Error">YARP's error, None when a response came through.</param>
/// <param name="CountsAsFailure">True for 5xx, timeouts and transport errors: what the instance's breaker counts.</param>
/// <param name="Retryable">True when another instance may be tried: nothing of the response reached the client and the request can be sent again.</param>
internal readonly record struct AttemptResult(AttemptOutcome Outcome, ForwarderError Error, bool CountsAsFailure, bool Retryable)
{
    public static AttemptResult NoInstance { get; } = new(AttemptOutcome.NoInstance, ForwarderError.None, false, false);
}
