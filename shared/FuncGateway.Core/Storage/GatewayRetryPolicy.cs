using System.Globalization;
using Azure.Core;
using Azure.Core.Pipeline;

namespace FuncGateway.Storage;

/// <summary>
/// The table client's retries: the SDK's fixed-delay policy, except that a response asking for a pause longer than
/// <see cref="MaxServerDelay"/> (<c>Retry-After</c>, <c>retry-after-ms</c>, <c>x-ms-retry-after-ms</c>) is not retried.
/// The SDK waits out any such pause before its retry, however long: an hour's <c>Retry-After</c> on a throttled 503
/// would hold a registry read, a counter write or an admin call for the hour. Every caller already treats a failed
/// call as storage trouble and tries again on its own schedule (the next poll, the rate limits' back-off).
/// </summary>
internal sealed class GatewayRetryPolicy(int maxRetries, TimeSpan delay) : RetryPolicy(maxRetries, DelayStrategy.CreateFixedDelayStrategy(delay))
{
    /// <summary>The longest pause storage may ask for and still get the retry.</summary>
    public static readonly TimeSpan MaxServerDelay = TimeSpan.FromSeconds(1);

    protected override bool ShouldRetry(HttpMessage message, Exception? exception) =>
        !AsksForLongPause(message) && base.ShouldRetry(message, exception);

    protected override ValueTask<bool> ShouldRetryAsync(HttpMessage message, Exception? exception) =>
        AsksForLongPause(message) ? ValueTask.FromResult(false) : base.ShouldRetryAsync(message, exception);

    internal static bool AsksForLongPause(HttpMessage message)
    {
        if (!message.HasResponse)
        {
            return false;
        }

        var headers = message.Response.Headers;
        if ((headers.TryGetValue("retry-after-ms", out var ms) || headers.TryGetValue("x-ms-retry-after-ms", out ms))
            && double.TryParse(ms, NumberStyles.Float, CultureInfo.InvariantCulture, out var milliseconds))
        {
            return milliseconds > MaxServerDelay.TotalMilliseconds;
        }

        if (!headers.TryGetValue("Retry-After", out var retryAfter))
        {
            return false;
        }

        if (double.TryParse(retryAfter, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds))
        {
            return seconds > MaxServerDelay.TotalSeconds;
        }

        // An HTTP date: measured against the response's own Date, so no clock of ours is involved; without one, the
        // pause cannot be told, and the caller's own schedule is the safe choice.
        return !(DateTimeOffset.TryParse(retryAfter, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var until)
                 && headers.Date is { } date
                 && until - date <= MaxServerDelay);
    }
}
