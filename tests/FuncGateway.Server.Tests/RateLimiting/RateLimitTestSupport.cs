namespace FuncGateway.Server.Tests.RateLimiting;

internal static class RateLimitTestSupport
{
    /// <summary>
    /// Waits, if need be, until the current window of this length has at least 20 s left, so a test never straddles a
    /// boundary by accident. When it waits, it waits until one second past the boundary, for the reason
    /// <see cref="UntilNextWindowAsync"/> gives: 50 ms past it, the gateway's storage-estimated clock may still be in
    /// the old window, and a test's requests would then be split between two windows' counters.
    /// </summary>
    public static async Task AwayFromWindowBoundaryAsync(double windowSeconds, double marginSeconds = 20)
    {
        var windowMs = (long)(windowSeconds * 1000);
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var left = windowMs - (now % windowMs);
        if (left < marginSeconds * 1000)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(left + 1000));
        }
    }

    /// <summary>
    /// Waits until the next window of this length has begun on the gateway's clock: one second past the boundary on
    /// this machine's clock. The gateway counts windows on the storage service's clock, which it estimates from the
    /// whole-second <c>Date</c> headers of the counter table's responses; after a sample or two that estimate can be
    /// off by half a second plus half a round trip, so a request 50 ms past the local boundary may still fall into
    /// the old window (it did on a loaded CI machine).
    /// </summary>
    public static async Task UntilNextWindowAsync(double windowSeconds)
    {
        var windowMs = (long)(windowSeconds * 1000);
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        await Task.Delay(TimeSpan.FromMilliseconds(windowMs - (now % windowMs) + 1000));
    }

    public static async Task WaitUntilAsync(Func<Task<bool>> condition, double timeoutSeconds = 20)
    {
        var deadline = DateTime.UtcNow.AddSeconds(timeoutSeconds);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Condition not met within {timeoutSeconds} s.");
            await Task.Delay(100);
        }
    }
}
