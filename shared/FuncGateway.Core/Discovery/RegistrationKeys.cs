using System.Collections.Frozen;
using System.Security.Cryptography;
using System.Text;
using FuncGateway.Model;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FuncGateway.Discovery;

/// <summary>
/// The registration keys (<c>FuncGateway:Discovery:Registration:Keys:&lt;name&gt;</c>): least-privilege credentials
/// for self-registering instances. A key is accepted in <c>X-Admin-Key</c> for <c>PUT</c> and <c>DELETE</c> of
/// <c>/_gateway/pools/{pool}/instances/{id}</c> of its own pools only; everything else refuses it like a wrong key.
/// </summary>
internal sealed class RegistrationKeys
{
    /// <summary>The shortest key: 32 characters, e.g. the output of <c>openssl rand -base64 32</c> (44).</summary>
    public const int MinKeyLength = 32;

    private const string Root = DiscoveryOptions.SectionName + ":Registration:Keys";

    // Hashes, so a comparison takes the same time whatever the given key's content or length.
    private readonly (string Name, byte[] Hash, FrozenSet<string> Pools)[] _keys;

    public RegistrationKeys(IOptions<DiscoveryOptions> options, ILogger<RegistrationKeys> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        var keys = new List<(string, byte[], FrozenSet<string>)>();
        foreach (var (name, key) in options.Value.Registration.Keys.OrderBy(static k => k.Key, StringComparer.Ordinal))
        {
            if (AdminKeys.IsUnresolvedKeyVaultReference(key?.Key))
            {
                // As for the admin key: App Service hands the app the reference text itself when it cannot resolve it;
                // that text is guessable, so it never works as a key. This key is refused; the gateway keeps serving.
                DiscoveryLog.RegistrationKeyUnresolved(logger, name);
                continue;
            }

            if (key is { Key: { Length: > 0 } secret })
            {
                keys.Add((name, SHA256.HashData(Encoding.UTF8.GetBytes(secret)), ParsePools(key.Pools).ToFrozenSet(StringComparer.Ordinal)));
            }
        }

        _keys = [.. keys];
        Any = options.Value.Registration.Keys.Count > 0;
    }

    /// <summary>
    /// True when at least one key is configured (even one whose Key Vault reference is unresolved, so its instances get
    /// 401 rather than 404): the registration endpoint is served even without an admin key.
    /// </summary>
    public bool Any { get; }

    /// <summary>Whether <paramref name="given"/> is a registration key that lists <paramref name="pool"/> (case-sensitive, as pool names are).</summary>
    public bool Allows(string given, string pool) => NameOf(given, pool) is not null;

    /// <summary>
    /// The name of the registration key <paramref name="given"/> is, when it lists <paramref name="pool"/>; otherwise
    /// null. Every key is compared, so the time taken does not tell which one (if any) matched.
    /// </summary>
    public string? NameOf(string given, string pool)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(given));
        string? found = null;
        foreach (var (name, keyHash, pools) in _keys)
        {
            if (CryptographicOperations.FixedTimeEquals(hash, keyHash) & pools.Contains(pool))
            {
                found = name;
            }
        }

        return found;
    }

    /// <summary>The pool names of a <c>Pools</c> setting: comma-separated, trimmed, empty entries left out.</summary>
    public static IEnumerable<string> ParsePools(string? pools) =>
        (pools ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

    /// <summary>Every problem with the keys, each naming its setting; never a key's value.</summary>
    public static List<string> Validate(RegistrationDiscoveryOptions options, string? adminKey)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, key) in options.Keys.OrderBy(static k => k.Key, StringComparer.OrdinalIgnoreCase))
        {
            var at = $"{Root}:{name}";
            if (!ConfigurationNames.IsValid(name))
            {
                errors.Add(ConfigurationNames.Describe(at, "registration key", name));
            }

            var secret = key?.Key;
            if (string.IsNullOrEmpty(secret))
            {
                errors.Add($"{at}:Key is required: the secret an instance sends in {AdminKeys.Header}.");
            }
            else if (AdminKeys.IsUnresolvedKeyVaultReference(secret))
            {
                // Not a configuration error (the vault may be briefly unreachable, or the identity's access not yet
                // granted): the key is refused and logged (RegistrationKeys), and the gateway keeps serving.
            }
            else if (secret.Length < MinKeyLength)
            {
                errors.Add($"{at}:Key must be at least {MinKeyLength} characters (it has {secret.Length}); e.g. the output of 'openssl rand -base64 32'.");
            }
            else if (string.Equals(secret, adminKey, StringComparison.Ordinal))
            {
                errors.Add($"{at}:Key is the admin key (FuncGateway:Admin:Key): give each registration key a secret of its own.");
            }
            else if (names.TryGetValue(secret, out var other))
            {
                errors.Add($"{at}:Key has the same value as {Root}:{other}:Key: give each registration key a secret of its own.");
            }
            else
            {
                names[secret] = name;
            }

            var pools = ParsePools(key?.Pools).ToArray();
            if (pools.Length == 0)
            {
                errors.Add($"{at}:Pools is required: the comma-separated names of the pools the key may register instances into.");
            }
            else if (pools.Contains("*", StringComparer.Ordinal))
            {
                errors.Add($"{at}:Pools: '*' is not allowed; list the pools the key may register instances into (a key for every pool is the admin key).");
            }
        }

        return errors;
    }
}

/// <summary>Checks the registration keys at start-up, every problem at once.</summary>
internal sealed class RegistrationKeysValidator(IOptions<GatewayOptions> gateway) : IValidateOptions<DiscoveryOptions>
{
    public ValidateOptionsResult Validate(string? name, DiscoveryOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = RegistrationKeys.Validate(options.Registration, gateway.Value.Admin.Key);
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
