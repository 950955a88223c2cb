
using FuncGateway.Model;

namespace FuncGateway.Storage;

/// <summary>Stands in when storage settings are missing or malformed: every call fails with the reason.</summary>
internal sealed class UnavailableRegistryStore(string reason) : IRegistryStore
{
    public Task EnsureTablesAsync(CancellationToken cancellationToken = default) => throw new RegistryStoreException(reason);

    public Task<RegistryContent> ReadAllAsync(CancellationToken cancellationToken = default) => throw new RegistryStoreException(reason);

    public Task<RegistryWriteResult> ApplyAsync(IReadOnlyList<RegistryWrite> writes, bool force = false, CancellationToken cancellationToken = default) =>
        throw new RegistryStoreException(reason);
}
