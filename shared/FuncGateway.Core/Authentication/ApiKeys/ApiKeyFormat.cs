using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Azure.Data.Tables;
using FuncGateway.Model;

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
    public static ApiKeyRecord? FromEntity(TableEntity entity) => Read(entity, out _);

    /// <summary>
    /// Reads an entity; null, with <paramref name="problem"/> saying why, when it is not a usable key record: no
    /// <c>ConsumerId</c> or <c>KeyId</c>, or a column of the wrong type (a string column holding a number, an
    /// <c>Enabled</c> that is not a Boolean, an <c>ExpiresAt</c> that is not a time). Such a record never authenticates
    /// anyone; reading it never throws.
    /// </summary>
    public static ApiKeyRecord? Read(TableEntity entity, out string? problem)
    {
        ArgumentNullException.ThrowIfNull(entity);
        problem = null;
        if (!TryString(entity, "ConsumerId", ref problem, out var consumer)
            | !TryString(entity, "KeyId", ref problem, out var keyId)
            | !TryString(entity, "Name", ref problem, out var name)
            | !TryString(entity, "Tier", ref problem, out var tier)
            | !TryString(entity, "Scopes", ref problem, out var scopes)
            | !TryEnabled(entity, ref problem, out var enabled)
            | !TryTime(entity, "ExpiresAt", ref problem, out var expiresAt)
            | !TryTime(entity, "CreatedAt", ref problem, out var createdAt))
        {
            return null;
        }

        if (string.IsNullOrWhiteSpace(consumer) || string.IsNullOrWhiteSpace(keyId))
        {
            problem = string.IsNullOrWhiteSpace(keyId) ? "KeyId is missing." : "ConsumerId is missing.";
            return null;
        }

        return new ApiKeyRecord(
            entity.RowKey,
            keyId,
            consumer,
            NullIfEmpty(name),
            NullIfEmpty(tier),
            (scopes ?? "").Split([',', ' '], StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries),
            enabled,
            expiresAt,
            createdAt);
    }

    private static bool TryString(TableEntity entity, string name, ref string? problem, out string? value)
    {
        value = null;
        if (!entity.TryGetValue(name, out var raw) || raw is null)
        {
            return true;
        }

        if (raw is string text)
        {
            value = text;
            return true;
        }

        Add(ref problem, $"{name} must be a string, not {TypeName(raw)}.");
        return false;
    }

    // Absent: enabled (fgw keys always writes it).
    private static bool TryEnabled(TableEntity entity, ref string? problem, out bool enabled)
    {
        enabled = true;
        if (!entity.TryGetValue("Enabled", out var raw) || raw is null)
        {
            return true;
        }

        switch (raw)
        {
            case bool b:
                enabled = b;
                return true;
            case string s when bool.TryParse(s, out var parsed):
                enabled = parsed;
                return true;
            default:
                enabled = false;
                Add(ref problem, $"Enabled must be a Boolean (true or false), not {TypeName(raw)}.");
                return false;
        }
    }

    private static bool TryTime(TableEntity entity, string name, ref string? problem, out DateTimeOffset? value)
    {
        value = null;
        if (!entity.TryGetValue(name, out var raw) || raw is null)
        {
            return true;
        }

        switch (raw)
        {
            case DateTimeOffset d:
                value = d;
                return true;
            case DateTime d:
                value = new DateTimeOffset(DateTime.SpecifyKind(d, DateTimeKind.Utc));
                return true;
            case string s when DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed):
                value = parsed;
                return true;
            default:
                Add(ref problem, $"{name} must be a DateTime, not {TypeName(raw)}.");
                return false;
        }
    }

    // A string is quoted (these columns hold no secret: the key itself is only ever stored as its hash).
    private static string TypeName(object value) => value is string text
        ? $"\"{(text.Length > 40 ? text[..40] + "…" : text)}\""
        : RegistryEntityReader.TypeName(value);

    private static void Add(ref string? problem, string reason) => problem = problem is null ? reason : problem + " " + reason;

    private static string? NullIfEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
