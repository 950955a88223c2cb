namespace FuncGateway.Model;

/// <summary>
/// What every key of the admin surface shares, whichever folder checks it (the admin key in <c>Admin/</c>, the
/// registration keys in <c>Discovery/</c>): the header it is sent in, and how an unresolved secret looks.
/// </summary>
internal static class AdminKeys
{
    /// <summary>The request header every admin-surface key is sent in.</summary>
    public const string Header = "X-Admin-Key";

    /// <summary>True for an app setting that is still a Key Vault reference (<c>@Microsoft.KeyVault(...)</c>) rather than its value.</summary>
    public static bool IsUnresolvedKeyVaultReference(string? value) =>
        value is not null && value.TrimStart().StartsWith("@Microsoft.KeyVault(", StringComparison.OrdinalIgnoreCase);
}
