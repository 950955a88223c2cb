using System.Diagnostics.CodeAnalysis;

namespace FuncGateway.Testing;

/// <summary>
/// The "Azurite" test collection: its tests share one <see cref="AzuriteFixture"/> and run one after another.
/// </summary>
/// <remarks>
/// xunit only discovers collection definitions declared in the test assembly itself, so each test project that uses
/// the collection declares it once:
/// <code>
/// [CollectionDefinition(AzuriteCollection.Name)]
/// public sealed class AzuriteCollectionDefinition : AzuriteCollection;
/// </code>
/// and its tests say <c>[Collection(AzuriteCollection.Name)]</c> and take <see cref="AzuriteFixture"/> in their constructor.
/// </remarks>
[CollectionDefinition(Name)]
[SuppressMessage("Naming", "CA1711:Identifiers should not have incorrect suffix", Justification = "xunit names collection definitions *Collection.")]
public abstract class AzuriteCollection : ICollectionFixture<AzuriteFixture>
{
    public const string Name = "Azurite";
}
