using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace FuncGateway.Authentication.Basic;

/// <summary>
/// A salted PBKDF2-HMAC-SHA256 password hash, written <c>pbkdf2-sha256:{iterations}:{base64 salt}:{base64 hash}</c>
/// (what <c>fgw basic hash</c> prints). At least 100,000 iterations, a 16-byte salt and a 32-byte hash.
/// </summary>
public sealed class PasswordHash
{
    /// <summary>The prefix naming the algorithm.</summary>
    public const string Prefix = "pbkdf2-sha256";

    /// <summary>Iterations <c>fgw basic hash</c> uses (OWASP's 2023 figure for PBKDF2-HMAC-SHA256).</summary>
    public const int DefaultIterations = 600_000;

    /// <summary>Fewest iterations accepted in configuration.</summary>
    public const int MinimumIterations = 100_000;

    private const int SaltBytes = 16;
    private const int HashBytes = 32;

    private readonly byte[] _salt;
    private readonly byte[] _hash;

    private PasswordHash(int iterations, byte[] salt, byte[] hash)
    {
        Iterations = iterations;
        _salt = salt;
        _hash = hash;
    }

    /// <summary>The PBKDF2 iteration count.</summary>
    public int Iterations { get; }

    /// <summary>Hashes a password with a fresh random salt.</summary>
    public static PasswordHash Create(string password, int iterations = DefaultIterations)
    {
        ArgumentNullException.ThrowIfNull(password);
        ArgumentOutOfRangeException.ThrowIfLessThan(iterations, MinimumIterations);
        var salt = RandomNumberGenerator.GetBytes(SaltBytes);
        return new PasswordHash(iterations, salt, Derive(password, salt, iterations, HashBytes));
    }

    /// <summary>Parses the encoded form; false with a reason (that never quotes the value) when it is not valid.</summary>
    public static bool TryParse(string? text, out PasswordHash? hash, out string error)
    {
        hash = null;
        var parts = (text ?? "").Trim().Split(':');
        if (parts.Length != 4 || parts[0] != Prefix)
        {
            error = $"is not a password hash of the form {Prefix}:ITERATIONS:SALT:HASH (make one with 'fgw basic hash').";
            return false;
        }

        if (!int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var iterations) || iterations < MinimumIterations)
        {
            error = $"has fewer than {MinimumIterations} PBKDF2 iterations (or an unreadable count); hash the password again with 'fgw basic hash'.";
            return false;
        }

        byte[] salt, derived;
        try
        {
            salt = Convert.FromBase64String(parts[2]);
            derived = Convert.FromBase64String(parts[3]);
        }
        catch (FormatException)
        {
            error = "has a salt or hash that is not base64.";
            return false;
        }

        if (salt.Length < SaltBytes || derived.Length < HashBytes)
        {
            error = $"needs a salt of at least {SaltBytes} bytes and a hash of at least {HashBytes} bytes.";
            return false;
        }

        hash = new PasswordHash(iterations, salt, derived);
        error = "";
        return true;
    }

    /// <summary>Checks a password; the comparison takes the same time wherever the bytes differ.</summary>
    public bool Verify(string password)
    {
        ArgumentNullException.ThrowIfNull(password);
        var candidate = Derive(password, _salt, Iterations, _hash.Length);
        return CryptographicOperations.FixedTimeEquals(candidate, _hash);
    }

    /// <summary>The encoded form.</summary>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Prefix}:{Iterations}:{Convert.ToBase64String(_salt)}:{Convert.ToBase64String(_hash)}");

    private static byte[] Derive(string password, byte[] salt, int iterations, int length) =>
        Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, length);
}
