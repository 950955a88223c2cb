namespace FuncGateway.Health;

/// <summary>The Health table: probe results per pool and instance, and the server prober's lease. The only place that knows the storage SDK for it.</summary>
internal interface IHealthStore
{
    /// <summary>The table's name, for messages.</summary>
    string TableName { get; }

    /// <summary>Every result row (the lease row left out).</summary>
    Task<IReadOnlyList<HealthRecord>> ReadAllAsync(CancellationToken cancellationToken = default);

    /// <summary>Inserts or replaces result rows, one transaction per pool and batch of 100.</summary>
    Task WriteAsync(IReadOnlyList<HealthRecord> records, CancellationToken cancellationToken = default);

    /// <summary>Deletes result rows; missing ones are ignored.</summary>
    Task DeleteAsync(IReadOnlyList<(string Pool, string Url)> keys, CancellationToken cancellationToken = default);

    /// <summary>Takes or renews the prober lease for <paramref name="owner"/> until <paramref name="expiresAt"/>; false when another owner holds an unexpired lease.</summary>
    Task<bool> TryAcquireLeaseAsync(string owner, DateTimeOffset now, DateTimeOffset expiresAt, CancellationToken cancellationToken = default);

    /// <summary>Gives the lease up if <paramref name="owner"/> holds it.</summary>
    Task ReleaseLeaseAsync(string owner, CancellationToken cancellationToken = default);
}
