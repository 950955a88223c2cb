
using FuncGateway.Model;

namespace FuncGateway.Storage;

/// <summary>Reads and writes the registry tables. The only place that knows the storage SDK.</summary>
public interface IRegistryStore
{
    /// <summary>Creates the registry tables if they do not exist (an import: it also ends the outage of a lost table).</summary>
    Task EnsureTablesAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// What a gateway does before its first read: creates each registry table that storage has never held, and records
    /// each one as seen. A table recorded as seen and missing now was lost (deleted, or storage restored without it):
    /// it is not created, since every instance would then serve the loss as an empty table; reading it fails with a
    /// <see cref="RegistryStoreException"/> whose <see cref="RegistryStoreException.LostTable"/> names it. A store
    /// that keeps no such record just creates missing tables.
    /// </summary>
    Task EnsureTablesUnlessLostAsync(CancellationToken cancellationToken = default) => EnsureTablesAsync(cancellationToken);

    /// <summary>Reads every row of both registry tables.</summary>
    Task<RegistryContent> ReadAllAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// The <see cref="RegistryFingerprint"/> of what <see cref="ReadAllAsync"/> would return, read from each row's keys
    /// and ETag only (every write changes a row's ETag): whether anything changed since the last full read, for a
    /// fraction of the bytes. Null when this store cannot tell (its rows carry no ETags); then only a full read tells.
    /// </summary>
    Task<string?> ReadFingerprintAsync(CancellationToken cancellationToken = default) => Task.FromResult<string?>(null);

    /// <summary>
    /// Applies <paramref name="writes"/> in their order, each conditional on the row being as it was read: an insert
    /// only if no row has the key (<c>If-None-Match: *</c>), a replacement or deletion only if the row still has the
    /// ETag that was read (<c>If-Match</c>). Consecutive inserts and replacements in one partition go in one atomic
    /// transaction (at most 100 rows); deletions go one by one, and a row already gone counts as deleted. Stops at the
    /// first write whose row changed and returns it, with how many writes were applied before it; nothing after it is
    /// written. With <paramref name="force"/> every write is unconditional (an upsert, or a deletion of whatever is
    /// there) and no conflict can occur. Storage failures throw <see cref="RegistryStoreException"/>.
    /// </summary>
    Task<RegistryWriteResult> ApplyAsync(IReadOnlyList<RegistryWrite> writes, bool force = false, CancellationToken cancellationToken = default);
}

/// <summary>What a <see cref="RegistryWrite"/> does.</summary>
public enum RegistryWriteKind
{
    /// <summary>Creates the row; fails when a row with its key exists.</summary>
    Insert,

    /// <summary>Replaces the row that was read; fails when it changed or went away since.</summary>
    Replace,

    /// <summary>Deletes the row that was read; fails when it changed since.</summary>
    Delete,
}

/// <summary>One write to a registry table, with the ETag of the row as it was read (for <see cref="RegistryWriteKind.Replace"/> and <see cref="RegistryWriteKind.Delete"/>).</summary>
/// <param name="Kind">Insert, replace or delete.</param>
/// <param name="Row">The row to write; for a deletion only its table and keys matter.</param>
/// <param name="IfMatch">The ETag the row had when it was read; required unless <paramref name="Kind"/> is an insert.</param>
public sealed record RegistryWrite(RegistryWriteKind Kind, RegistryRow Row, string? IfMatch = null);

/// <summary>How far <see cref="IRegistryStore.ApplyAsync"/> got.</summary>
/// <param name="Applied">Writes applied, from the start of the list.</param>
/// <param name="Conflict">The write that found its row changed (nothing from it on was written); null when all were applied.</param>
public sealed record RegistryWriteResult(int Applied, RegistryWrite? Conflict)
{
    /// <summary>Whether every write was applied.</summary>
    public bool Completed => Conflict is null;
}

/// <summary>Storage could not be reached or refused the operation; the message is safe to show.</summary>
public sealed class RegistryStoreException : Exception
{
    /// <summary>
    /// The registry table that is missing although the gateway has seen it (see
    /// <see cref="IRegistryStore.EnsureTablesUnlessLostAsync"/>); null for every other failure.
    /// </summary>
    public string? LostTable { get; init; }

    /// <summary>Creates the exception.</summary>
    public RegistryStoreException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception.</summary>
    public RegistryStoreException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public RegistryStoreException(string message)
        : base(message)
    {
    }
}
