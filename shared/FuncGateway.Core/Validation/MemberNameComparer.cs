namespace FuncGateway.Validation;

/// <summary>
/// Compares JSON member names the way case-insensitive upstream parsers match them to fields (ASP.NET Core's web
/// defaults, Go's <c>encoding/json</c>, Jackson with case-insensitive properties): <c>qty</c>, <c>Qty</c> and
/// <c>QTY</c> are one name, and so are the characters that fold together (<c>s</c>, <c>S</c>, U+017F <c>ſ</c>;
/// <c>k</c>, <c>K</c>, U+212A KELVIN SIGN). An object holding two such names is refused: the schema would check one
/// value and such an upstream would read the other.
/// </summary>
internal sealed class MemberNameComparer : IEqualityComparer<string>
{
    public static readonly MemberNameComparer Instance = new();

    public bool Equals(string? x, string? y)
    {
        if (x is null || y is null)
        {
            return ReferenceEquals(x, y);
        }

        if (x.Length != y.Length)
        {
            return false;
        }

        for (var i = 0; i < x.Length; i++)
        {
            if (Fold(x[i]) != Fold(y[i]))
            {
                return false;
            }
        }

        return true;
    }

    public int GetHashCode(string name)
    {
        var hash = new HashCode();
        foreach (var c in name)
        {
            hash.Add(Fold(c));
        }

        return hash.ToHashCode();
    }

    private static char Fold(char c) => c < 0x80
        ? (c is >= 'a' and <= 'z' ? (char)(c - 32) : c)
        : char.ToUpperInvariant(char.ToLowerInvariant(c));
}
