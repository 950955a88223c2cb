using Azure.Core;
using Azure.Core.Pipeline;

namespace FuncGateway.RateLimiting;

/// <summary>
/// Feeds every response about the counter table (the shared table client hands those tries to it) to the
/// <see cref="StorageClock"/>: its <c>Date</c> header, with when the try was sent and answered. Each try (retries too)
/// is one sample; failed requests (409, 412) count as well.
/// </summary>
internal sealed class StorageClockPolicy(StorageClock clock) : HttpPipelinePolicy
{
    public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        var sent = clock.Timestamp();
        await ProcessNextAsync(message, pipeline).ConfigureAwait(false);
        Record(message, sent);
    }

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        var sent = clock.Timestamp();
        ProcessNext(message, pipeline);
        Record(message, sent);
    }

    private void Record(HttpMessage message, long sent)
    {
        if (message.HasResponse && message.Response.Headers.Date is { } date)
        {
            clock.AddSample(sent, clock.Timestamp(), date);
        }
    }
}
