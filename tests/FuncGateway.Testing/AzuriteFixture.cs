using Azure.Data.Tables;

namespace FuncGateway.Testing;

/// <summary>
/// One Azurite per test collection (see <see cref="AzuriteCollection"/>). Tests share it and isolate themselves
/// with unique table names (<see cref="UniqueTableName"/>).
/// </summary>
public sealed class AzuriteFixture : IAsyncLifetime
{
    private const int MaxTableNameLength = 63;
    private const int UniqueSuffixLength = 32;

    private AzuriteInstance? _azurite;

    /// <summary>The running instance; throws before xunit has initialised the fixture.</summary>
    public AzuriteInstance Azurite =>
        _azurite ?? throw new InvalidOperationException("The Azurite fixture has not been initialised yet.");

    public string ConnectionString => Azurite.ConnectionString;

    public TableServiceClient CreateTableServiceClient(TableClientOptions? options = null) =>
        Azurite.CreateTableServiceClient(options);

    /// <summary>
    /// A table name no other test uses: <paramref name="prefix"/> (letters and digits, starting with a letter)
    /// followed by 32 hex characters.
    /// </summary>
    public static string UniqueTableName(string prefix = "t")
    {
        ArgumentException.ThrowIfNullOrEmpty(prefix);
        if (!char.IsAsciiLetter(prefix[0]) || !prefix.All(char.IsAsciiLetterOrDigit)
            || prefix.Length > MaxTableNameLength - UniqueSuffixLength)
        {
            throw new ArgumentException(
                $"A table name prefix is ASCII letters and digits, starts with a letter and has at most {MaxTableNameLength - UniqueSuffixLength} characters.",
                nameof(prefix));
        }

        return prefix + Guid.NewGuid().ToString("N");
    }

    public async Task InitializeAsync() => _azurite = await AzuriteInstance.StartAsync();

    public async Task DisposeAsync()
    {
        if (_azurite is not null)
        {
            await _azurite.DisposeAsync();
        }
    }
}
