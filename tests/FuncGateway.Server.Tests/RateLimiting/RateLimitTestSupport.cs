namespace FuncGateway.Server.Tests.RateLimiting;

internal static class RateLimitTestSupport
{
    /// <summary>Waits, if need be, until the current window of this length has at least 20 s left, so a test never straddles a boundary by accident.</summary>
    public static async Task AwayFromWindowBoundaryAsync(double windowSeconds, double marginSeconds = 20)
    {
        var windowMs = (long)(windowSeconds * 1000);
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var left = windowMs - (now % windowMs);
        if (left < marginSeconds * 1000)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(left + 50));
        }
    }

    /// <summary>Waits until the next window of this length begins.</summary>
    public static async Task UntilNextWindowAsync(double windowSeconds)
    {
        var windowMs = (long)(windowSeconds * 1000);
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        await Task.Delay(TimeSpan.FromMilliseconds(windowMs - (now % windowMs) + 50));
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
