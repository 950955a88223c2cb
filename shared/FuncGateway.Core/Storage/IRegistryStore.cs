using FuncGateway.Configuration;

namespace FuncGateway.Storage;

/// <summary>Reads and writes the registry tables. The only place that knows the storage SDK.</summary>
public interface IRegistryStore
{
    /// <summary>Creates the registry tables if they do not exist.</summary>
    Task EnsureTablesAsync(CancellationToken cancellationToken = default);

    /// <summary>Reads every row of both registry tables.</summary>
    Task<RegistryContent> ReadAllAsync(CancellationToken cancellationToken = default);

    /// <summary>Inserts or replaces rows, one atomic transaction per partition and batch of 100.</summary>
    Task UpsertAsync(IReadOnlyList<RegistryRow> rows, CancellationToken cancellationToken = default);

    /// <summary>Deletes rows by key; missing rows are ignored.</summary>
    Task DeleteAsync(IReadOnlyList<RegistryRow> rows, CancellationToken cancellationToken = default);
}

/// <summary>Storage could not be reached or refused the operation; the message is safe to show.</summary>
public sealed class RegistryStoreException : Exception
{
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
