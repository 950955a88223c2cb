using System.Collections.Concurrent;
using System.Diagnostics;
using FuncGateway.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace FuncGateway.Server.Tests.Diagnostics;

/// <summary>
/// What a gateway emitted, captured in process: its spans and metrics through OpenTelemetry's in-memory exporter
/// (every trace sampled), and its log records with their scopes.
/// </summary>
internal sealed class TelemetryCapture
{
    public LockedCollection<Activity> SpanList { get; } = new();

    public LockedCollection<MetricSnapshot> Metrics { get; } = new();

    public CapturingLoggerProvider Logs { get; } = new();

    public void AddTo(IServiceCollection services) => Add(services, static tracing => tracing.SetSampler(new AlwaysOnSampler()));

    /// <summary>
    /// As <see cref="AddTo(IServiceCollection)"/>, with the gateway's own parent-based sampling at <paramref name="ratio"/>
    /// of new traces, as <c>AddFuncGatewayOpenTelemetry</c> sets it up.
    /// </summary>
    public Action<IServiceCollection> WithGatewaySampling(double ratio) => services => Add(services, tracing => tracing.SetFuncGatewaySampler(ratio));

    private void Add(IServiceCollection services, Action<TracerProviderBuilder> sampling)
    {
        // What AddFuncGatewayOpenTelemetry does besides its exporters: Polly's meter on.
        services.AddFuncGatewayPollyTelemetry();
        services.AddOpenTelemetry()
            .WithTracing(tracing => sampling(tracing.AddSource("FuncGateway").AddInMemoryExporter(SpanList)))
            .WithMetrics(metrics => metrics.AddMeter("FuncGateway", "Polly").AddInMemoryExporter(Metrics));
    }

    public void AddTo(ILoggingBuilder logging)
    {
        logging.AddProvider(Logs);
        logging.AddFilter<CapturingLoggerProvider>("FuncGateway", LogLevel.Information);
    }

    /// <summary>The spans exported so far (a span is exported when it ends, just after its response).</summary>
    public List<Activity> Spans() => SpanList.Snapshot();

    /// <summary>Waits (up to 10 s) for the spans matching <paramref name="match"/> to number at least <paramref name="count"/>.</summary>
    public async Task<List<Activity>> WaitForSpansAsync(Func<Activity, bool> match, int count = 1)
    {
        for (var i = 0; i < 200; i++)
        {
            var found = Spans().Where(match).ToList();
            if (found.Count >= count)
            {
                return found;
            }

            await Task.Delay(50);
        }

        Assert.Fail($"Expected {count} matching spans; exported: {string.Join(", ", Spans().Select(s => s.OperationName))}");
        return [];
    }

    /// <summary>Collects the meter provider now and returns the sum of a counter's points whose tags contain <paramref name="tags"/>.</summary>
    public long CounterSum(GatewayHost gateway, string name, params (string Key, string Value)[] tags) =>
        (long)Points(gateway, name, tags).Sum(p => p.GetSumLong());

    /// <summary>Collects now and returns the total count of a histogram's points whose tags contain <paramref name="tags"/>.</summary>
    public long HistogramCount(GatewayHost gateway, string name, params (string Key, string Value)[] tags) =>
        Points(gateway, name, tags).Sum(p => p.GetHistogramCount());

    public List<MetricPoint> Points(GatewayHost gateway, string name, params (string Key, string Value)[] tags)
    {
        Metrics.Clear();
        gateway.Services.GetRequiredService<MeterProvider>().ForceFlush();
        var points = new List<MetricPoint>();
        foreach (var metric in Metrics.Snapshot().Where(m => m.Name == name))
        {
            foreach (var point in metric.MetricPoints)
            {
                var pointTags = new Dictionary<string, string?>();
                foreach (var tag in point.Tags)
                {
                    pointTags[tag.Key] = tag.Value?.ToString();
                }

                if (tags.All(t => pointTags.TryGetValue(t.Key, out var v) && v == t.Value))
                {
                    points.Add(point);
                }
            }
        }

        return points;
    }

    public static string? Tag(Activity span, string key) => span.GetTagItem(key)?.ToString();
}

/// <summary>A logger provider that keeps every record with the values of the scopes around it.</summary>
internal sealed class CapturingLoggerProvider : ILoggerProvider, ISupportExternalScope
{
    private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

    public ConcurrentQueue<LogRecord> Records { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

    public void Dispose()
    {
    }

    internal sealed record LogRecord(string Category, EventId EventId, LogLevel Level, string Message, IReadOnlyList<KeyValuePair<string, object?>> Scope);

    private sealed class Logger(CapturingLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => owner._scopes.Push(state);

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var scope = new List<KeyValuePair<string, object?>>();
            owner._scopes.ForEachScope(static (value, list) =>
            {
                if (value is IEnumerable<KeyValuePair<string, object?>> pairs)
                {
                    list.AddRange(pairs);
                }
            }, scope);
            owner.Records.Enqueue(new LogRecord(category, eventId, logLevel, formatter(state, exception), scope));
        }
    }
}

/// <summary>A collection the exporters add to from their threads while a test reads it.</summary>
internal sealed class LockedCollection<T> : ICollection<T>
{
    private readonly List<T> _items = [];

    public int Count
    {
        get
        {
            lock (_items)
            {
                return _items.Count;
            }
        }
    }

    public bool IsReadOnly => false;

    public List<T> Snapshot()
    {
        lock (_items)
        {
            return [.. _items];
        }
    }

    public void Add(T item)
    {
        lock (_items)
        {
            _items.Add(item);
        }
    }

    public void Clear()
    {
        lock (_items)
        {
            _items.Clear();
        }
    }

    public bool Contains(T item) => Snapshot().Contains(item);

    public void CopyTo(T[] array, int arrayIndex) => Snapshot().CopyTo(array, arrayIndex);

    public bool Remove(T item)
    {
        lock (_items)
        {
            return _items.Remove(item);
        }
    }

    public IEnumerator<T> GetEnumerator() => Snapshot().GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}
