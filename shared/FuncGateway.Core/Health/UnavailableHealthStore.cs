using FuncGateway.Storage;

namespace FuncGateway.Health;

/// <summary>Stands in when storage settings are missing or malformed: every call fails with the reason.</summary>
internal sealed class UnavailableHealthStore(string reason) : IHealthStore
{
    public string TableName => "(no storage)";

    public Task<IReadOnlyList<HealthRecord>> ReadAllAsync(CancellationToken cancellationToken = default) => throw new RegistryStoreException(reason);

    public Task WriteAsync(IReadOnlyList<HealthRecord> records, CancellationToken cancellationToken = default) => throw new RegistryStoreException(reason);

    public Task DeleteAsync(IReadOnlyList<(string Pool, string Url)> keys, CancellationToken cancellationToken = default) => throw new RegistryStoreException(reason);

    public Task<bool> TryAcquireLeaseAsync(string owner, DateTimeOffset now, DateTimeOffset expiresAt, CancellationToken cancellationToken = default) => throw new RegistryStoreException(reason);

    public Task ReleaseLeaseAsync(string owner, CancellationToken cancellationToken = default) => throw new RegistryStoreException(reason);
}
