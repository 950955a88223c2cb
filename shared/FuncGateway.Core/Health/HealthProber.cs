using FuncGateway.Model;
using FuncGateway.Configuration;
using FuncGateway.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FuncGateway.Health;

/// <summary>What the prober last did on this instance, for the admin surface.</summary>
/// <param name="LastRoundAt">When the last round ended.</param>
/// <param name="LastError">Why the last round failed; null when it worked.</param>
/// <param name="LastProbed">Instances probed in the last round.</param>
/// <param name="LeaseHolder">For the server's prober: whether this instance holds the lease; null where a timer drives probing.</param>
internal sealed record ProberStatus(DateTimeOffset? LastRoundAt, string? LastError, int LastProbed, bool? LeaseHolder);

/// <summary>
/// One round of active health checking for the whole fleet: reads the Health table, probes every instance of every
/// pool with a <c>HealthCheck</c> whose interval is due (in parallel, each with its pool's timeout), applies
/// hysteresis and writes the results back. Called by the Functions timer (a singleton across the app) and by the
/// server's lease-holding background service; stateless between rounds, so whichever instance runs it next carries on.
/// </summary>
public sealed class HealthProber : IDisposable
{
    private readonly GatewayRegistry _registry;
    private readonly IHealthStore _store;
    private readonly HealthResults _results;
    private readonly HealthOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<HealthProber> _logger;
    private readonly HttpClient _client;
    private readonly SemaphoreSlim _oneRound = new(1, 1);
    private volatile ProberStatus _status = new(null, null, 0, null);

    internal HealthProber(
        GatewayRegistry registry,
        IHealthStore store,
        HealthResults results,
        IOptions<HealthOptions> options,
        TimeProvider time,
        ILogger<HealthProber> logger,
        HttpMessageHandler? handler = null)
    {
        _registry = registry;
        _store = store;
        _results = results;
        _options = options.Value;
        _time = time;
        _logger = logger;
        _client = new HttpClient(handler ?? new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            UseCookies = false,
            PooledConnectionLifetime = TimeSpan.FromMinutes(1),
            ConnectTimeout = TimeSpan.FromSeconds(10),
            ConnectCallback = UpstreamAllowlist.ConnectAsync,
        })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
        _client.DefaultRequestHeaders.UserAgent.ParseAdd("FuncGateway-HealthProbe/1.0");
        Id = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid().ToString("N")[..8]}";
    }

    /// <summary>Who this prober is, as written to the rows' <c>ProbedBy</c> and the lease.</summary>
    public string Id { get; }

    /// <summary>
    /// How long one call to the Health table may take (<c>FuncGateway:Registry:ReadTimeoutSeconds</c>). Without a
    /// deadline a call can wait far longer than any lease: the storage client waits out a <c>Retry-After</c> of any
    /// length before its retry.
    /// </summary>
    internal TimeSpan StorageTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>A token that ends after <see cref="StorageTimeout"/> or with <paramref name="cancellationToken"/>.</summary>
    internal CancellationTokenSource StorageDeadline(CancellationToken cancellationToken)
    {
        var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(StorageTimeout);
        return deadline;
    }

    /// <summary>What a Health table call that ran out of <see cref="StorageTimeout"/> reports.</summary>
    internal string StorageTimedOut(string what) => $"Could not {what} table '{_store.TableName}': storage did not answer within {StorageTimeout.TotalSeconds} s.";

    internal ProberStatus Status => _status;

    internal void SetLeaseHolder(bool holder) => _status = _status with { LeaseHolder = holder };

    /// <summary>The lease could not be taken or renewed (storage trouble): this instance is not probing, and says why.</summary>
    internal void SetLeaseFailed(string error) => _status = _status with { LeaseHolder = false, LastError = error };

    /// <summary>
    /// Probes every instance that is due and writes the results. Storage and probe failures are logged and recorded
    /// for the admin surface, never thrown; a round already running on this instance makes this call return at once.
    /// </summary>
    public async Task RunOnceAsync(CancellationToken cancellationToken = default)
    {
        if (!await _oneRound.WaitAsync(0, cancellationToken))
        {
            return;
        }

        try
        {
            var probed = await ProbeDueAsync(cancellationToken);
            _status = _status with { LastRoundAt = _time.GetUtcNow(), LastError = null, LastProbed = probed };
        }
        catch (Exception ex) when (ex is RegistryStoreException or IOException or HttpRequestException
                                   || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            var error = ex is OperationCanceledException ? StorageTimedOut("use the Health") : ex.Message;
            HealthLog.ProbeRoundFailed(_logger, error);
            _status = _status with { LastRoundAt = _time.GetUtcNow(), LastError = error };
        }
        finally
        {
            _oneRound.Release();
        }
    }

    private async Task<int> ProbeDueAsync(CancellationToken cancellationToken)
    {
        var snapshot = await _registry.GetSnapshotAsync(cancellationToken);
        if (snapshot is null)
        {
            return 0;
        }

        IReadOnlyList<HealthRecord> read;
        using (var deadline = StorageDeadline(cancellationToken))
        {
            read = await _store.ReadAllAsync(deadline.Token);
        }

        var existing = read.ToDictionary(r => (r.Pool, r.Url));
        var now = _time.GetUtcNow();
        var slack = TimeSpan.FromSeconds(_options.ProbeTickSeconds / 2);
        var targets = new List<(UpstreamPool Pool, UpstreamInstance Instance, HealthCheckSettings Settings)>();
        var probed = new HashSet<(string, string)>();
        foreach (var pool in snapshot.Upstreams.Values)
        {
            if (pool.HealthCheck is not { } settings)
            {
                continue;
            }

            foreach (var instance in pool.Instances)
            {
                probed.Add((pool.Name, instance.Url));
                if (!existing.TryGetValue((pool.Name, instance.Url), out var last) || now + slack >= last.ProbedAt + settings.Interval)
                {
                    targets.Add((pool, instance, settings));
                }
            }
        }

        var results = new HealthRecord[targets.Count];
        await Parallel.ForEachAsync(
            Enumerable.Range(0, targets.Count),
            new ParallelOptions { MaxDegreeOfParallelism = _options.MaxParallelProbes, CancellationToken = cancellationToken },
            async (i, token) =>
            {
                var (pool, instance, settings) = targets[i];
                var previous = existing.GetValueOrDefault((pool.Name, instance.Url));
                var result = await ProbeAsync(instance.Url, settings, token);
                var next = HealthEvaluator.Next(previous, pool.Name, instance.Url, result, settings, Id);
                if (next.State != (previous?.State ?? HealthState.Unknown))
                {
                    HealthLog.HealthStateChanged(_logger, pool.Name, instance.Url, next.State.ToString(), result.Error ?? "probes pass");
                }

                results[i] = next;
            });

        if (results.Length > 0)
        {
            using (var deadline = StorageDeadline(cancellationToken))
            {
                await _store.WriteAsync(results, deadline.Token);
            }

            _results.Apply(results, complete: false);
        }

        // Rows of instances or pools that are gone, or no longer probed, would otherwise linger (and be read by everyone).
        var orphans = existing.Keys.Where(k => !probed.Contains(k)).ToList();
        if (orphans.Count > 0)
        {
            using var deadline = StorageDeadline(cancellationToken);
            await _store.DeleteAsync(orphans, deadline.Token);
        }

        HealthLog.ProbeRound(_logger, results.Length, targets.Count, results.Length);
        return results.Length;
    }

    /// <summary>One probe: GET the health path; healthy when the status is expected and it answers within the timeout.</summary>
    internal async Task<ProbeResult> ProbeAsync(string instanceUrl, HealthCheckSettings settings, CancellationToken cancellationToken)
    {
        var startedAt = _time.GetUtcNow();
        var start = _time.GetTimestamp();
        using var timeout = new CancellationTokenSource(settings.Timeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, instanceUrl + settings.Path);
            using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, linked.Token);
            var status = (int)response.StatusCode;
            var healthy = settings.IsExpected(status);
            return new ProbeResult(healthy, status, Elapsed(start), healthy ? null : $"status {status}, expected {settings.ExpectedStatus}", startedAt);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new ProbeResult(false, null, Elapsed(start), $"no answer within {settings.Timeout.TotalSeconds} s", startedAt);
        }
        catch (HttpRequestException ex)
        {
            return new ProbeResult(false, null, Elapsed(start), $"{ex.HttpRequestError}: {ex.Message}", startedAt);
        }
    }

    private double Elapsed(long start) => _time.GetElapsedTime(start).TotalMilliseconds;

    public void Dispose()
    {
        _client.Dispose();
        _oneRound.Dispose();
    }
}
