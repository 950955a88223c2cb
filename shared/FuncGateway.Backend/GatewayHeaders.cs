namespace FuncGateway.Backend;

/// <summary>
/// The header contract between FuncGateway and its backends. Every header in the identity namespace
/// (<c>X-User-*</c>, <c>X-Consumer-*</c>, <c>X-Gateway-*</c>) that a backend receives was written by the gateway:
/// whatever a client sent in that namespace, or in a look-alike of it, is removed before forwarding.
/// </summary>
public static class GatewayHeaders
{
    /// <summary>The authentication policy that accepted the caller, or <c>anonymous</c>.</summary>
    public const string AuthPolicy = "X-Gateway-Auth-Policy";

    /// <summary>The user's id (a token's <c>sub</c>, a Basic user name).</summary>
    public const string UserId = "X-User-Id";

    /// <summary>The user's e-mail address, when the token has one.</summary>
    public const string UserEmail = "X-User-Email";

    /// <summary>The user's roles: a list (see <see cref="GatewayHeaderValue"/>).</summary>
    public const string UserRoles = "X-User-Roles";

    /// <summary>The granted scopes: a list.</summary>
    public const string UserScopes = "X-User-Scopes";

    /// <summary>The API consumer (an API key's owner, or a token's client).</summary>
    public const string ConsumerId = "X-Consumer-Id";

    /// <summary>The consumer's tier.</summary>
    public const string ConsumerTier = "X-Consumer-Tier";

    /// <summary>The id (never the secret) of the API key that was used.</summary>
    public const string ConsumerKeyId = "X-Consumer-Key-Id";

    /// <summary>Unix time in seconds at which the gateway signed the request.</summary>
    public const string Timestamp = "X-Gateway-Timestamp";

    /// <summary>The id of the key the gateway signed with.</summary>
    public const string KeyId = "X-Gateway-Key-Id";

    /// <summary><c>v1=</c> followed by the lower-case hex HMAC-SHA256 of the canonical string.</summary>
    public const string Signature = "X-Gateway-Signature";

    /// <summary>
    /// True when <paramref name="name"/> is in the identity namespace, or looks as if it were to a backend that
    /// normalises names: case is ignored and every run of characters other than letters and digits counts as one
    /// separator, so <c>X_User_Id</c>, <c>x.user.id</c>, <c>X--USER--ID</c> and <c>XUser-Id</c> are all in it.
    /// </summary>
    public static bool IsIdentityNamespace(string name)
    {
        ArgumentNullException.ThrowIfNull(name);

        // The first two alphanumeric tokens decide: ("x", "user"|"consumer"|"gateway") or ("xuser"|"xconsumer"|"xgateway", ...).
        Span<char> first = stackalloc char[10];
        Span<char> second = stackalloc char[9];
        var firstLength = 0;
        var secondLength = 0;
        var token = 0;
        var inToken = false;
        foreach (var c in name)
        {
            if (char.IsAsciiLetterOrDigit(c))
            {
                if (!inToken)
                {
                    token++;
                    inToken = true;
                    if (token > 2)
                    {
                        break;
                    }
                }

                var lower = char.ToLowerInvariant(c);
                if (token == 1)
                {
                    if (firstLength == first.Length)
                    {
                        return IsWrittenHeaderLookAlike(name);
                    }

                    first[firstLength++] = lower;
                }
                else
                {
                    if (secondLength == second.Length)
                    {
                        // Longer than any namespace word: "x-usernames" is not "x-user-*".
                        secondLength = int.MaxValue;
                        break;
                    }

                    second[secondLength++] = lower;
                }
            }
            else
            {
                inToken = false;
            }
        }

        var head = first[..firstLength];
        if (head is "xuser" or "xconsumer" or "xgateway")
        {
            return true;
        }

        if (head is "x" && secondLength != int.MaxValue && second[..secondLength] is "user" or "consumer" or "gateway")
        {
            return true;
        }

        return IsWrittenHeaderLookAlike(name);
    }

    // The gateway's own headers with every character but letters and digits removed, lower case.
    private static readonly string[] WrittenHeadersSquashed =
        [.. new[] { AuthPolicy, UserId, UserEmail, UserRoles, UserScopes, ConsumerId, ConsumerTier, ConsumerKeyId, Timestamp, KeyId, Signature }
            .Select(static header => string.Concat(header.Where(char.IsAsciiLetterOrDigit)).ToLowerInvariant())];

    /// <summary>
    /// True when <paramref name="name"/>, with every character but letters and digits removed and case ignored, is one of
    /// the headers the gateway writes: <c>XUserId</c>, <c>X-UserId</c>, <c>XGatewayAuthPolicy</c> read as <c>X-User-Id</c>
    /// and <c>X-Gateway-Auth-Policy</c> to a backend that compares names that way (and each header itself).
    /// </summary>
    internal static bool IsWrittenHeaderLookAlike(string name)
    {
        Span<char> squashed = stackalloc char[24];
        var length = Squash(name, squashed, out var complete);
        if (!complete)
        {
            return false;
        }

        foreach (var header in WrittenHeadersSquashed)
        {
            if (squashed[..length].SequenceEqual(header))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Writes the letters and digits of <paramref name="name"/>, lower case, into <paramref name="buffer"/> (how
    /// backends that ignore case and separators compare names); returns how many were written. <paramref name="complete"/>
    /// is false when the buffer filled before the name ended.
    /// </summary>
    internal static int Squash(string name, Span<char> buffer, out bool complete)
    {
        var length = 0;
        foreach (var c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c))
            {
                continue;
            }

            if (length == buffer.Length)
            {
                complete = false;
                return length;
            }

            buffer[length++] = char.ToLowerInvariant(c);
        }

        complete = true;
        return length;
    }

    /// <summary>
    /// True for the headers the signature covers: every <c>X-User-*</c> and <c>X-Consumer-*</c> header and
    /// <c>X-Gateway-Auth-Policy</c> (exact names, case-insensitive). The signature's own headers are not among them.
    /// </summary>
    public static bool IsSigned(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return name.StartsWith("X-User-", StringComparison.OrdinalIgnoreCase)
            || name.StartsWith("X-Consumer-", StringComparison.OrdinalIgnoreCase)
            || name.Equals(AuthPolicy, StringComparison.OrdinalIgnoreCase);
    }
}
