using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace FuncGateway.Discovery.Consul;

/// <summary>
/// Watches the passing instances of one Consul service with blocking queries on
/// <c>GET /v1/health/service/{service}?passing=true&amp;index={X-Consul-Index}&amp;wait={n}s</c>: a change is answered as
/// soon as Consul sees it. Publishes only when the list of URLs and weights changed.
/// </summary>
internal sealed class ConsulDiscoverySource : IDiscoverySource, IDiscoverySourceStatus
{
    /// <summary>A query with index 0 is answered at once; two of them in a row are at least this far apart (no tight loop).</summary>
    public static readonly TimeSpan MinNonBlockingInterval = TimeSpan.FromSeconds(1);

    /// <summary>Added to a blocking query's deadline: Consul adds up to wait/16 of jitter, and the answer must travel.</summary>
    private static readonly TimeSpan DeadlineMargin = TimeSpan.FromSeconds(10);

    private const int MaxReasonLength = 200;

    private readonly string _pool;
    private readonly ConsulSpecification _specification;
    private readonly HttpClient _http;
    private readonly ConsulDiscoveryOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string _query;
    private readonly DiscoveryRetry _retry;

    public ConsulDiscoverySource(string pool, ConsulSpecification specification, HttpClient http, ConsulDiscoveryOptions options, TimeProvider time, ILogger logger)
    {
        _pool = pool;
        _specification = specification;
        _http = http;
        _options = options;
        _time = time;
        _retry = new DiscoveryRetry(time);
        _logger = logger;
        var query = new StringBuilder(options.Address.TrimEnd('/'))
            .Append("/v1/health/service/").Append(Uri.EscapeDataString(specification.Service)).Append("?passing=true");
        if (specification.Tag is { } tag)
        {
            query.Append("&tag=").Append(Uri.EscapeDataString(tag));
        }

        if (specification.Datacenter is { } datacenter)
        {
            query.Append("&dc=").Append(Uri.EscapeDataString(datacenter));
        }

        _query = query.ToString();
    }

    public string? LastError => _retry.LastError;

    public DateTimeOffset? LastErrorAt => _retry.LastErrorAt;

    public async Task WatchAsync(Func<IReadOnlyList<DiscoveredInstance>, ValueTask> publish, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(publish);
        var retry = _retry;
        IReadOnlyList<DiscoveredInstance>? published = null;
        ulong index = 0;
        long? lastNonBlocking = null;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                if (index == 0)
                {
                    if (lastNonBlocking is { } at && MinNonBlockingInterval - _time.GetElapsedTime(at) is { Ticks: > 0 } pause)
                    {
                        await Task.Delay(pause, _time, cancellationToken);
                    }

                    lastNonBlocking = _time.GetTimestamp();
                }

                var (answerIndex, instances) = await QueryAsync(index, cancellationToken);
                if (retry.Failures > 0)
                {
                    ConsulLog.Recovered(_logger, _pool, _specification.Service, retry.Failures);
                }

                retry.Succeed();
                index = NextIndex(index, answerIndex);
                if (!DiscoveredInstanceList.Same(published, instances))
                {
                    published = instances;
                    ConsulLog.Changed(_logger, _pool, _specification.Service, instances.Count, answerIndex);
                    await publish(instances);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is HttpRequestException or IOException or OperationCanceledException or JsonException or ConsulAnswerException)
            {
                var reason = Describe(e);
                if (retry.Fail(reason))
                {
                    ConsulLog.Unreachable(_logger, _pool, _specification.Service, reason, published?.Count ?? 0);
                }

                // The next answer must be a whole new list: after an outage the index may have moved anywhere.
                index = 0;
                if (!await retry.DelayAsync(cancellationToken))
                {
                    return;
                }
            }
        }
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    /// <summary>
    /// The index for the next query, per Consul's blocking-query rules: an index lower than the one sent means the
    /// state was reset (a snapshot restore, another server), so start again from 0; an absent or 0 index cannot block.
    /// </summary>
    internal ulong NextIndex(ulong sent, ulong answered)
    {
        if (answered < sent)
        {
            ConsulLog.IndexReset(_logger, _pool, sent, answered);
            return 0;
        }

        return answered;
    }

    private async Task<(ulong Index, IReadOnlyList<DiscoveredInstance> Instances)> QueryAsync(ulong index, CancellationToken cancellationToken)
    {
        var url = index == 0
            ? _query
            : string.Create(CultureInfo.InvariantCulture, $"{_query}&index={index}&wait={_options.WaitSeconds}s");
        var deadline = index == 0
            ? DeadlineMargin
            : TimeSpan.FromSeconds(_options.WaitSeconds + (_options.WaitSeconds / 16.0)) + DeadlineMargin;
        using var timeout = new CancellationTokenSource(deadline, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (!string.IsNullOrEmpty(_options.Token))
        {
            request.Headers.TryAddWithoutValidation("X-Consul-Token", _options.Token);
        }

        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, linked.Token);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            var body = await response.Content.ReadAsStringAsync(linked.Token);
            throw new ConsulAnswerException($"HTTP {(int)response.StatusCode} from {_options.Address}: {Shorten(body)}");
        }

        var answered = response.Headers.TryGetValues("X-Consul-Index", out var values)
            && ulong.TryParse(values.FirstOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out var parsed)
                ? parsed
                : 0;
        await using var stream = await response.Content.ReadAsStreamAsync(linked.Token);
        using var document = await JsonDocument.ParseAsync(stream, default, linked.Token);
        return (answered, Parse(document.RootElement, _specification.Scheme));
    }

    /// <summary>
    /// The instances of a <c>/v1/health/service</c> answer: <c>scheme://Service.Address:Service.Port</c>, or
    /// <c>Node.Address</c> when the service registered no address of its own; weight <c>Service.Weights.Passing</c>
    /// clamped to 1–1000 (1 when absent). Entries without a usable address or port are skipped.
    /// </summary>
    internal static IReadOnlyList<DiscoveredInstance> Parse(JsonElement answer, string scheme)
    {
        if (answer.ValueKind != JsonValueKind.Array)
        {
            throw new ConsulAnswerException($"expected a JSON array, got {answer.ValueKind}");
        }

        var instances = new List<DiscoveredInstance>();
        foreach (var entry in answer.EnumerateArray())
        {
            if (entry.ValueKind != JsonValueKind.Object || !entry.TryGetProperty("Service", out var service) || service.ValueKind != JsonValueKind.Object)
            {
                continue;
            }

            var host = Text(service, "Address") ?? (entry.TryGetProperty("Node", out var node) && node.ValueKind == JsonValueKind.Object ? Text(node, "Address") : null);
            if (host is null || !service.TryGetProperty("Port", out var portValue) || !portValue.TryGetInt32(out var port) || port is < 1 or > 65535)
            {
                continue;
            }

            var weight = 1;
            if (service.TryGetProperty("Weights", out var weights) && weights.ValueKind == JsonValueKind.Object
                && weights.TryGetProperty("Passing", out var passing) && passing.TryGetInt32(out var value))
            {
                weight = Math.Clamp(value, 1, 1000);
            }

            instances.Add(new DiscoveredInstance(DiscoveredInstanceList.Url(scheme, host, port), weight));
        }

        return DiscoveredInstanceList.Normalize(instances);
    }

    private static string? Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text ? text : null;

    private static string Describe(Exception e) => e switch
    {
        OperationCanceledException => "no answer before the query's deadline",
        _ => Shorten(e.Message),
    };

    private static string Shorten(string text)
    {
        var line = text.ReplaceLineEndings(" ").Trim();
        return line.Length <= MaxReasonLength ? line : line[..MaxReasonLength] + "…";
    }
}

/// <summary>Consul answered, but not with a list of service entries (an error status or a body of another shape).</summary>
internal sealed class ConsulAnswerException(string message) : Exception(message);
