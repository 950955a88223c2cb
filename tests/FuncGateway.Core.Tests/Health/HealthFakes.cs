using FuncGateway.Model;
using System.Collections.Concurrent;
using System.Net;
using FuncGateway.Health;
using FuncGateway.Storage;

namespace FuncGateway.Core.Tests.Health;

/// <summary>The Health table in memory.</summary>
internal sealed class InMemoryHealthStore : IHealthStore
{
    public ConcurrentDictionary<(string Pool, string Url), HealthRecord> Rows { get; } = new();

    public Exception? Failure { get; set; }

    public string? LeaseOwner { get; private set; }

    public DateTimeOffset LeaseExpiresAt { get; private set; }

    public string TableName => "TestHealth";

    public Task<IReadOnlyList<HealthRecord>> ReadAllAsync(CancellationToken cancellationToken = default) =>
        Failure is not null ? Task.FromException<IReadOnlyList<HealthRecord>>(Failure) : Task.FromResult<IReadOnlyList<HealthRecord>>([.. Rows.Values]);

    public Task WriteAsync(IReadOnlyList<HealthRecord> records, CancellationToken cancellationToken = default)
    {
        foreach (var record in records)
        {
            Rows[(record.Pool, record.Url)] = record;
        }

        return Task.CompletedTask;
    }

    public Task DeleteAsync(IReadOnlyList<(string Pool, string Url)> keys, CancellationToken cancellationToken = default)
    {
        foreach (var key in keys)
        {
            Rows.TryRemove(key, out _);
        }

        return Task.CompletedTask;
    }

    public Task<bool> TryAcquireLeaseAsync(string owner, DateTimeOffset now, DateTimeOffset expiresAt, CancellationToken cancellationToken = default)
    {
        if (LeaseOwner is not null && LeaseOwner != owner && LeaseExpiresAt > now)
        {
            return Task.FromResult(false);
        }

        (LeaseOwner, LeaseExpiresAt) = (owner, expiresAt);
        return Task.FromResult(true);
    }

    public Task ReleaseLeaseAsync(string owner, CancellationToken cancellationToken = default)
    {
        if (LeaseOwner == owner)
        {
            LeaseOwner = null;
        }

        return Task.CompletedTask;
    }
}

/// <summary>A registry store that always returns the same rows.</summary>
internal sealed class StaticRegistryStore(RegistryContent content) : IRegistryStore
{
    public Task EnsureTablesAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;

    public Task<RegistryContent> ReadAllAsync(CancellationToken cancellationToken = default) => Task.FromResult(content);

    public Task<RegistryWriteResult> ApplyAsync(IReadOnlyList<RegistryWrite> writes, bool force = false, CancellationToken cancellationToken = default) =>
        Task.FromResult(new RegistryWriteResult(writes.Count, null));
}

/// <summary>Answers health probes with a status per host, and counts them.</summary>
internal sealed class ProbeHandler : HttpMessageHandler
{
    private readonly ConcurrentDictionary<string, int> _calls = new();

    public ConcurrentDictionary<string, HttpStatusCode> Statuses { get; } = new();

    public int Calls(string host) => _calls.GetValueOrDefault(host);

    public int TotalCalls => _calls.Values.Sum();

    /// <summary>Hosts that never answer (until the probe's timeout cancels).</summary>
    public ConcurrentDictionary<string, bool> Hanging { get; } = new();

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var host = request.RequestUri!.Host;
        _calls.AddOrUpdate(host, 1, (_, n) => n + 1);
        if (Hanging.ContainsKey(host))
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }

        if (!Statuses.TryGetValue(host, out var status))
        {
            throw new HttpRequestException(HttpRequestError.ConnectionError, "Connection refused");
        }

        return new HttpResponseMessage(status) { RequestMessage = request };
    }
}
