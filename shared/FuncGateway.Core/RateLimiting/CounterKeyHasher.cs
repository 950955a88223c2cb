using FuncGateway.Model;
using System.Security.Cryptography;
using System.Text;

namespace FuncGateway.RateLimiting;

/// <summary>
/// Turns a counter's partition key (a client address, a user id, a header value...) into the hex string its table
/// rows are keyed by: an HMAC-SHA256 under a secret, so the counter table holds no personal data in clear text and
/// cannot be reversed by hashing guesses (every IPv4 address, a list of user names) without the secret. The same
/// secret on every instance gives the same rows, so counters are shared as before.
/// </summary>
internal sealed class CounterKeyHasher
{
    /// <summary>Hex digits of the HMAC kept in the row's PartitionKey (128 bits).</summary>
    public const int HashHexLength = 32;

    /// <summary>Shortest accepted <c>KeyHashSecret</c>, in characters.</summary>
    public const int MinSecretLength = 32;

    /// <summary>What a secret derived from an account key is derived with; changing it restarts every counter.</summary>
    private static readonly byte[] DerivationLabel = Encoding.UTF8.GetBytes("FuncGateway rate-limit counter keys v1");

    // Azurite's account key, published in its documentation: UseDevelopmentStorage=true means this account.
    private const string DevelopmentStorageAccountKey =
        "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private readonly byte[] _key;

    public CounterKeyHasher(byte[] key, CounterKeySource source)
    {
        ArgumentNullException.ThrowIfNull(key);
        _key = key;
        Source = source;
    }

    /// <summary>Where the secret came from (for the start-up log line; never the secret).</summary>
    public CounterKeySource Source { get; }

    /// <summary>The first <see cref="HashHexLength"/> lower-case hex digits of HMAC-SHA256(secret, tier + "\n" + key).</summary>
    public string Hash(string? tier, string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var data = Encoding.UTF8.GetBytes((tier ?? "") + "\n" + key);
        return Convert.ToHexStringLower(HMACSHA256.HashData(_key, data), 0, HashHexLength / 2);
    }

    /// <summary>
    /// The hasher for these settings: <paramref name="secret"/> when set; else one derived from the account key of the
    /// storage connection string in use (the well-known Azurite key for <c>UseDevelopmentStorage=true</c>); else, when
    /// no storage is configured at all (the counters are unreachable anyway), a random one. Null when storage is
    /// reached without an account key (a managed identity, a SAS) and no secret is set: then there is nothing
    /// every instance shares to key the hash with.
    /// </summary>
    public static CounterKeyHasher? Create(string? secret, StorageOptions storage, string? fallbackConnectionString)
    {
        ArgumentNullException.ThrowIfNull(storage);
        if (!string.IsNullOrEmpty(secret))
        {
            return new CounterKeyHasher(Encoding.UTF8.GetBytes(secret), CounterKeySource.Setting);
        }

        // The connection string the stores use: their own, else (without a table endpoint) the Functions host's.
        var connectionString = !string.IsNullOrWhiteSpace(storage.ConnectionString) ? storage.ConnectionString
            : string.IsNullOrWhiteSpace(storage.TableServiceUri) ? fallbackConnectionString
            : null;
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            return string.IsNullOrWhiteSpace(storage.TableServiceUri)
                ? new CounterKeyHasher(RandomNumberGenerator.GetBytes(32), CounterKeySource.NoStorage)
                : null;
        }

        return AccountKeyOf(connectionString) is { } accountKey
            ? new CounterKeyHasher(HMACSHA256.HashData(accountKey, DerivationLabel), CounterKeySource.AccountKey)
            : null;
    }

    /// <summary>The account key of a connection string; null when it has none (a SAS, a malformed string).</summary>
    private static byte[]? AccountKeyOf(string connectionString)
    {
        foreach (var part in connectionString.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var equals = part.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                continue;
            }

            var name = part[..equals].Trim();
            var value = part[(equals + 1)..].Trim();
            if (name.Equals("UseDevelopmentStorage", StringComparison.OrdinalIgnoreCase) && value.Equals("true", StringComparison.OrdinalIgnoreCase))
            {
                return Convert.FromBase64String(DevelopmentStorageAccountKey);
            }

            if (name.Equals("AccountKey", StringComparison.OrdinalIgnoreCase) && value.Length > 0)
            {
                var bytes = new byte[value.Length];
                return Convert.TryFromBase64String(value, bytes, out var written) ? bytes[..written] : Encoding.UTF8.GetBytes(value);
            }
        }

        return null;
    }
}

/// <summary>Where the counter-key secret came from.</summary>
internal enum CounterKeySource
{
    /// <summary><c>FuncGateway:RateLimits:KeyHashSecret</c>.</summary>
    Setting,

    /// <summary>Derived from the storage account key in the connection string.</summary>
    AccountKey,

    /// <summary>No storage configured: a random secret for a counter table nobody can reach.</summary>
    NoStorage,
}
