namespace FuncGateway.Model;

/// <summary>Makes operator- or client-supplied text safe to echo into a log line or an error message.</summary>
internal static class PrintableText
{
    private const int MaxLength = 200;

    /// <summary>The value with control characters replaced by <c>?</c> and cut to 200 characters (then ending in <c>…</c>).</summary>
    public static string Of(string value)
    {
        var span = value.AsSpan(0, Math.Min(value.Length, MaxLength));
        var chars = new char[span.Length];
        for (var i = 0; i < span.Length; i++)
        {
            chars[i] = char.IsControl(span[i]) ? '?' : span[i];
        }

        return value.Length > MaxLength ? new string(chars) + "…" : new string(chars);
    }
}
