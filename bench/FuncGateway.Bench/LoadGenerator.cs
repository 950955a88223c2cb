using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;

namespace FuncGateway.Bench;

/// <summary>
/// The fallback load generator, for machines where wrk cannot be installed: a fixed number of HTTP/1.1 keep-alive
/// connections (one <see cref="SocketsHttpHandler"/>, <c>MaxConnectionsPerServer</c> = connections), each a closed
/// loop of GET → read whole body → next. Every latency is recorded, so the percentiles are exact (nearest rank), not
/// bucketed. Bounded by time and by a request cap.
/// </summary>
internal static class LoadGenerator
{
    public static async Task<int> RunAsync(CommandLine options, CancellationToken cancellationToken)
    {
        var url = options.AbsoluteHttpUri("url");
        var connections = options.Int("connections", 32, 1, 4096);
        var seconds = options.Double("seconds", 10, 0.1, 3600);
        var maxRequests = options.Int("max-requests", 100_000_000, 1, int.MaxValue);
        var header = options.Optional("header") is { } text ? ParseHeader(text) : (KeyValuePair<string, string>?)null;
        var result = await RunAsync(url, connections, TimeSpan.FromSeconds(seconds), maxRequests, header, cancellationToken);
        Console.WriteLine(JsonSerializer.Serialize(result, LoadResult.Json));
        return 0;
    }

    /// <summary>"Name: value", as wrk's -H takes it.</summary>
    private static KeyValuePair<string, string> ParseHeader(string text)
    {
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        return colon > 0 ? new(text[..colon].Trim(), text[(colon + 1)..].Trim()) : throw new UsageException($"--header must be 'Name: value', got '{text}'.");
    }

    public static async Task<LoadResult> RunAsync(
        Uri url, int connections, TimeSpan duration, long maxRequests, KeyValuePair<string, string>? header, CancellationToken cancellationToken)
    {
        using var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            MaxConnectionsPerServer = connections,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
            ConnectTimeout = TimeSpan.FromSeconds(5),
        };
        using var invoker = new HttpMessageInvoker(handler);
        using var abort = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);

        // A request still hanging well past the end is a failure, not a reason to run forever.
        abort.CancelAfter(duration + TimeSpan.FromSeconds(10));

        var shared = new SharedState(maxRequests);
        var start = Stopwatch.GetTimestamp();
        var end = start + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var workers = new Task<Worker>[connections];
        for (var i = 0; i < connections; i++)
        {
            workers[i] = Task.Run(() => RunWorkerAsync(invoker, url, header, end, shared, abort.Token), CancellationToken.None);
        }

        var done = await Task.WhenAll(workers);
        var elapsed = Stopwatch.GetElapsedTime(start);

        var latencies = new long[done.Sum(w => w.Latencies.Count)];
        var offset = 0;
        foreach (var worker in done)
        {
            worker.Latencies.CopyTo(latencies, offset);
            offset += worker.Latencies.Count;
        }

        Array.Sort(latencies);
        return new LoadResult
        {
            Tool = "dotnet",
            Connections = connections,
            Requests = latencies.Length,
            Seconds = elapsed.TotalSeconds,
            RequestsPerSecond = latencies.Length / elapsed.TotalSeconds,
            P50Us = Percentile(latencies, 50),
            P99Us = Percentile(latencies, 99),
            MaxUs = latencies.Length == 0 ? 0 : ToMicroseconds(latencies[^1]),
            MeanUs = latencies.Length == 0 ? 0 : ToMicroseconds((long)latencies.Average()),
            BadStatus = done.Sum(w => w.BadStatus),
            Errors = done.Sum(w => w.Errors),
            FirstError = done.Select(w => w.FirstError).FirstOrDefault(e => e is not null),
        };
    }

    private static async Task<Worker> RunWorkerAsync(
        HttpMessageInvoker invoker, Uri url, KeyValuePair<string, string>? header, long end, SharedState shared, CancellationToken cancellationToken)
    {
        var worker = new Worker();
        var buffer = new byte[16 * 1024];
        while (Stopwatch.GetTimestamp() < end && Interlocked.Increment(ref shared.Issued) <= shared.MaxRequests)
        {
            var started = Stopwatch.GetTimestamp();
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, url) { Version = HttpVersion.Version11, VersionPolicy = HttpVersionPolicy.RequestVersionExact };
                if (header is { } h)
                {
                    request.Headers.TryAddWithoutValidation(h.Key, h.Value);
                }

                using var response = await invoker.SendAsync(request, cancellationToken);
                await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
                while (await body.ReadAsync(buffer, cancellationToken) > 0)
                {
                }

                if ((int)response.StatusCode is < 200 or > 299)
                {
                    worker.BadStatus++;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException or OperationCanceledException)
            {
                worker.Errors++;
                worker.FirstError ??= ex.GetType().Name + ": " + ex.Message;
                if (cancellationToken.IsCancellationRequested)
                {
                    break;
                }

                continue;
            }

            var finished = Stopwatch.GetTimestamp();

            // Like wrk: a response that completes after the end of the run is not counted.
            if (finished <= end)
            {
                worker.Latencies.Add(finished - started);
            }
        }

        return worker;
    }

    /// <summary>Nearest-rank percentile of sorted Stopwatch tick values, in microseconds.</summary>
    internal static double Percentile(long[] sorted, double percentile)
    {
        if (sorted.Length == 0)
        {
            return 0;
        }

        var rank = (int)Math.Ceiling(percentile / 100 * sorted.Length);
        return ToMicroseconds(sorted[Math.Clamp(rank, 1, sorted.Length) - 1]);
    }

    private static double ToMicroseconds(long ticks) => ticks * 1_000_000.0 / Stopwatch.Frequency;

    private sealed class SharedState(long maxRequests)
    {
        public readonly long MaxRequests = maxRequests;
        public long Issued;
    }

    private sealed class Worker
    {
        public List<long> Latencies { get; } = new(64 * 1024);

        public long BadStatus { get; set; }

        public long Errors { get; set; }

        public string? FirstError { get; set; }
    }
}

/// <summary>One load run, in the same shape whichever tool produced it (wrk's Lua script prints the same fields).</summary>
internal sealed record LoadResult
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public string Tool { get; init; } = "";

    public int Connections { get; init; }

    public long Requests { get; init; }

    public double Seconds { get; init; }

    public double RequestsPerSecond { get; init; }

    public double P50Us { get; init; }

    public double P99Us { get; init; }

    public double MeanUs { get; init; }

    public double MaxUs { get; init; }

    /// <summary>Responses with a status outside 2xx (wrk counts only statuses of 400 and above).</summary>
    public long BadStatus { get; init; }

    public long Errors { get; init; }

    public string? FirstError { get; init; }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{RequestsPerSecond:F0} req/s");
}
