using System.Net;
using System.Text.RegularExpressions;

namespace FuncGateway.Validation;

/// <summary>
/// SQL-injection and XSS signatures: the shapes attacks take (OWASP's testing guide and cheat sheets), not words
/// that may appear in text. A quote alone (<c>O'Brien</c>), SQL words in prose (<c>select a size</c>) or a lone
/// <c>&lt;</c> (<c>&lt;3</c>) match nothing. The patterns run on a normalised copy of the value (percent- and
/// HTML-entity-decoded, SQL comments turned into spaces), with the non-backtracking engine: linear time on any input.
/// </summary>
internal static class InjectionSignatures
{
    private const RegexOptions Options = RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.NonBacktracking;

    private static readonly Regex Sql = new(string.Join('|',
        // Tautologies after a closing quote: ' OR '1'='1, " or 1=1, ') or ('x'='x, ' or ''='
        @"['""`]\s*\)*\s*(or|and|xor|\|\||&&)\s*\(*\s*(['""`][^'""`]{0,30}['""`]|\d+|true|false|null)\s*(=|<>|!=|<|>|\blike\b)",
        @"['""`]\s*\)*\s*(or|\|\|)\s+(true|1)\s*(--|#|$)",
        // Numeric tautologies without quotes: 1 OR 1=1, 0 or 2>1
        @"\b\d+\s+(or|and|xor)\s+\d+\s*(=|<>|!=|<|>)\s*\d+",
        // A quote closing the literal, then a comment to the end: admin'--, x'#, 1')/*
        @"['""`]\s*\)*\s*(--|#|/\*)[\s-]*$",
        // Column probing after a closing quote: 1' ORDER BY 3--, ' GROUP BY x HAVING 1=1
        @"['""`]\s*\)*\s*(order\s+by|group\s+by|having)\s+\w+",
        // UNION-based extraction
        @"\bunion\b(\s+(all|distinct))?\s+(\(\s*)?select\b",
        // Stacked queries
        @";\s*(drop|delete|insert|update|alter|create|truncate|exec|execute|declare|shutdown|grant|revoke)\b",
        @";\s*select\b[^;]{0,100}\bfrom\b",
        // Time-based blind injection and server functions attackers reach for
        @"\b(sleep|benchmark|pg_sleep|dbms_pipe\.receive_message|randomblob|extractvalue|updatexml|load_file|utl_http\.request)\s*\(",
        @"\bwaitfor\s+(delay|time)\s+['""]",
        @"\b(xp_cmdshell|sp_executesql|sp_oacreate|information_schema\.|sysobjects\b|pg_catalog\.|sqlite_master\b|@@version\b)",
        // Statement shapes: SELECT *|f(x)|a,b FROM, DROP TABLE, INSERT INTO ... VALUES (, DELETE FROM t WHERE, UPDATE t SET c=
        @"\bselect\s+(\*|@@\w+|\w+\s*\(|(\w+\s*,\s*)+\w+)[^;]{0,100}\bfrom\b",
        @"\b(drop|truncate|alter)\s+(table|database|schema|view|procedure)\b",
        @"\binsert\s+into\b[^;]{0,200}\bvalues\s*\(",
        @"\bdelete\s+from\s+[\w.\[\]""`]+\s+where\b",
        @"\bupdate\s+[\w.\[\]""`]+\s+set\s+\w+\s*=",
        // Strings built from character codes
        @"\b(char|nchar|chr)\s*\(\s*\d+\s*(,\s*\d+\s*)+\)"), Options);

    private static readonly Regex Xss = new(string.Join('|',
        @"</?script\b",
        // An event handler attribute inside a tag: <img src=x onerror=...>, <svg/onload=...>, <body onload=...>
        @"<[a-z!][^>]*[\s/""'`]on[a-z]{3,}\s*=",
        // Elements that run or load active content
        @"<(iframe|frame|frameset|object|embed|applet|base|link|meta|style|svg|math|form|isindex|template|xml|import)\b",
        // Script URLs (not the word followed by a colon in prose) and data URLs with markup or script
        @"(javascript|vbscript|livescript)\s*:(\S|\s*[\w.]+\s*\()",
        @"data\s*:\s*(text/html|application/(x-)?javascript|image/svg\+xml)",
        // CSS expressions and attribute vectors
        @":\s*expression\s*\(",
        @"\bsrcdoc\s*=",
        @"\bformaction\s*=",
        @"-moz-binding\s*:",
        // Template injection into front-end frameworks
        @"\{\{[^}]*(constructor|\$on|\$eval|alert|prompt|confirm)\b"), Options);

    /// <summary>Whether the value carries an SQL-injection signature.</summary>
    public static bool IsSqlInjection(string value) => Sql.IsMatch(Normalize(value, forSql: true));

    /// <summary>Whether the value carries an XSS signature.</summary>
    public static bool IsXss(string value)
    {
        var text = Normalize(value, forSql: false, out var hadControls);

        // Control characters became spaces, which keeps "<img\tonerror=" a tag; but browsers drop tabs and newlines
        // inside a URL ("java\tscript:" runs) and old ones NULs, so such a value is also tried without them.
        return Xss.IsMatch(text) || (hadControls && Xss.IsMatch(Normalize(value, forSql: false, out _, removeControls: true)));
    }

    internal static string Normalize(string value, bool forSql) => Normalize(value, forSql, out _);

    private static readonly Regex SqlComment = new(@"/\*.*?\*/", RegexOptions.CultureInvariant | RegexOptions.Singleline | RegexOptions.NonBacktracking);

    /// <summary>
    /// Undoes the encodings attackers wrap signatures in: percent-encoding (twice, for double encoding), HTML entities
    /// (<c>&amp;lt;script&amp;gt;</c>, <c>&amp;#106;avascript</c>), and, for SQL, inline comments used as spaces
    /// (<c>UNION/**/SELECT</c>). NUL and other control characters become spaces.
    /// </summary>
    private static string Normalize(string value, bool forSql, out bool hadControls, bool removeControls = false)
    {
        hadControls = false;
        var text = value;
        for (var i = 0; i < 2 && text.Contains('%', StringComparison.Ordinal); i++)
        {
            text = WebUtility.UrlDecode(text);
        }

        if (text.Contains('&', StringComparison.Ordinal))
        {
            text = WebUtility.HtmlDecode(text);
        }

        if (forSql && text.Contains("/*", StringComparison.Ordinal))
        {
            text = SqlComment.Replace(text, " ");
        }

        if (text.AsSpan().IndexOfAnyInRange('\0', '\u001f') >= 0)
        {
            hadControls = true;
            if (removeControls)
            {
                return string.Concat(text.Where(static c => !char.IsControl(c)));
            }

            text = string.Create(text.Length, text, static (span, source) =>
            {
                for (var i = 0; i < source.Length; i++)
                {
                    span[i] = char.IsControl(source[i]) ? ' ' : source[i];
                }
            });
        }

        return text;
    }
}
