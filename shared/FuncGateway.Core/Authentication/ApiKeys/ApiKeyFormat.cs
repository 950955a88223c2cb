using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Azure.Data.Tables;

namespace FuncGateway.Authentication.ApiKeys;

/// <summary>One API key as stored: everything but the key itself.</summary>
/// <param name="Hash">Lower-case hex SHA-256 of the key (the row's RowKey).</param>
/// <param name="KeyId">A public handle for listing, revoking and rotating (<c>k-</c> + 12 hex digits).</param>
/// <param name="ConsumerId">Who the key belongs to; sent upstream as <c>X-Consumer-Id</c>.</param>
/// <param name="Name">A label for people.</param>
/// <param name="Tier">The consumer's tier (for rate limits); <c>X-Consumer-Tier</c>.</param>
/// <param name="Scopes">Scopes granted to the key; <c>X-User-Scopes</c>, and checked by route authorization.</param>
/// <param name="Enabled">False once revoked.</param>
/// <param name="ExpiresAt">After this instant the key is refused.</param>
/// <param name="CreatedAt">When the key was created.</param>
public sealed record ApiKeyRecord(
    string Hash,
    string KeyId,
    string ConsumerId,
    string? Name,
    string? Tier,
    IReadOnlyList<string> Scopes,
    bool Enabled,
    DateTimeOffset? ExpiresAt,
    DateTimeOffset? CreatedAt);

/// <summary>
/// The API key format and the <c>{TablePrefix}ApiKeys</c> entity format, shared by the gateway and <c>fgw keys</c>.
/// A key is <c>fgw_</c> + 43 base64url characters (256 random bits); only its SHA-256 is stored. Entity:
/// PartitionKey = the first two hex digits of the hash, RowKey = the whole hash (so a lookup is one point read),
/// properties <c>KeyId</c>, <c>ConsumerId</c>, <c>Name</c>, <c>Tier</c>, <c>Scopes</c> (comma-separated),
/// <c>Enabled</c>, <c>ExpiresAt</c>, <c>CreatedAt</c>.
/// </summary>
public static class ApiKeyFormat
{
    /// <summary>Every key starts with this, so leaked keys are easy to recognise (and to scan for).</summary>
    public const string Prefix = "fgw_";

    /// <summary>Length of a key: the prefix and 43 base64url characters.</summary>
    public const int KeyLength = 47;

    /// <summary>The table name for a prefix.</summary>
    public static string TableName(string tablePrefix) => tablePrefix + "ApiKeys";

    /// <summary>A new random key and its id.</summary>
    public static (string Key, string KeyId) Generate()
    {
        var key = Prefix + Base64Url(RandomNumberGenerator.GetBytes(32));
        var keyId = "k-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        return (key, keyId);
    }

    /// <summary>True for something shaped like a key: <c>fgw_</c> and 43 base64url characters. Anything else is refused without a lookup.</summary>
    public static bool IsWellFormed(string? key)
    {
        if (key is null || key.Length != KeyLength || !key.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return false;
        }

        for (var i = Prefix.Length; i < key.Length; i++)
        {
            var c = key[i];
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Lower-case hex SHA-256 of the key's UTF-8 bytes.</summary>
    public static string Hash(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
    }

    /// <summary>The partition of a hash.</summary>
    public static string PartitionOf(string hash) => hash[..2];

    /// <summary>The entity a record is stored as.</summary>
    public static TableEntity ToEntity(ApiKeyRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var entity = new TableEntity(PartitionOf(record.Hash), record.Hash)
        {
            ["KeyId"] = record.KeyId,
            ["ConsumerId"] = record.ConsumerId,
            ["Enabled"] = record.Enabled,
        };
        if (record.Name is not null)
        {
            entity["Name"] = record.Name;
        }

        if (record.Tier is not null)
        {
            entity["Tier"] = record.Tier;
        }

        if (record.Scopes.Count > 0)
        {
            entity["Scopes"] = string.Join(',', record.Scopes);
        }

        if (record.ExpiresAt is { } expires)
        {
            entity["ExpiresAt"] = expires;
        }

        if (record.CreatedAt is { } created)
        {
            entity["CreatedAt"] = created;
        }

        return entity;
    }

    /// <summary>Reads an entity; null when it is not a usable key record (then it never authenticates anyone).</summary>
    public static ApiKeyRecord? FromEntity(TableEntity entity)
    {
        ArgumentNullException.ThrowIfNull(entity);
        var consumer = entity.GetString("ConsumerId");
        var keyId = entity.GetString("KeyId");
        if (string.IsNullOrWhiteSpace(consumer) || string.IsNullOrWhiteSpace(keyId))
        {
            return null;
        }

        var enabled = entity.TryGetValue("Enabled", out var flag) switch
        {
            false => true,
            true => flag switch
            {
                bool b => b,
                string s when bool.TryParse(s, out var parsed) => parsed,
                null => true,
                _ => false,
            },
        };
        return new ApiKeyRecord(
            entity.RowKey,
            keyId,
            consumer,
            NullIfEmpty(entity.GetString("Name")),
            NullIfEmpty(entity.GetString("Tier")),
            (entity.GetString("Scopes") ?? "").Split([',', ' '], StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries),
            enabled,
            ReadTime(entity, "ExpiresAt"),
            ReadTime(entity, "CreatedAt"));
    }

    private static DateTimeOffset? ReadTime(TableEntity entity, string name) => entity.TryGetValue(name, out var value) ? value switch
    {
        DateTimeOffset d => d,
        DateTime d => new DateTimeOffset(DateTime.SpecifyKind(d, DateTimeKind.Utc)),
        string s when DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed) => parsed,

        // An expiry that cannot be read expires the key rather than making it eternal.
        not null when name == "ExpiresAt" => DateTimeOffset.MinValue,
        _ => null,
    } : null;

    private static string? NullIfEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
