using FuncGateway.Validation;
using Xunit.Abstractions;
using static FuncGateway.Core.Tests.Validation.ValidationTestSupport;

namespace FuncGateway.Core.Tests.Validation;

/// <summary>
/// The injection screen measured on two corpora: attack strings in the shapes of OWASP's SQL-injection and XSS
/// filter-evasion cheat sheets (all must be caught), and benign text that looks close (all must pass). The rates are
/// printed; the figures in docs/validation.md come from this test.
/// </summary>
public class InjectionCorpusTests(ITestOutputHelper output)
{
    public static readonly string[] SqlAttacks =
    [
        "' OR '1'='1", "' OR 1=1--", "\" OR \"\"=\"", "admin'--", "admin' #", "') OR ('a'='a", "1 OR 1=1", "' or ''='",
        "1' AND 1=1 UNION SELECT username, password FROM users--", "' UNION ALL SELECT NULL,NULL,NULL--", "1 UNION/**/SELECT/**/1,2,3",
        "1; DROP TABLE users", "'; EXEC xp_cmdshell('dir')--", "1'; WAITFOR DELAY '0:0:5'--", "1 AND SLEEP(5)", "1' AND pg_sleep(5)--",
        "' AND 1=BENCHMARK(5000000,MD5(1))--", "1 AND extractvalue(1,concat(0x7e,version()))", "' UNION SELECT table_name FROM information_schema.tables--",
        "SELECT * FROM users WHERE id = 1", "%27%20OR%20%271%27%3D%271", "%2527%2520OR%25201%253D1--", "1' or true--",
        "'; INSERT INTO users (name) VALUES ('x')--", "'; UPDATE users SET role='admin'--", "x' AND 1=(SELECT COUNT(*) FROM sysobjects)--",
        "CHAR(83,69,76,69,67,84)", "' OR 'x' LIKE 'x", "1' ORDER BY 1--", "' || '1'='1",
    ];

    public static readonly string[] XssAttacks =
    [
        "<script>alert(1)</script>", "<SCRIPT SRC=//evil.example/x.js></SCRIPT>", "<img src=x onerror=alert(1)>", "<svg/onload=alert(1)>",
        "<body onload=alert('x')>", "<iframe src=\"javascript:alert(1)\">", "<a href=\"javascript:alert(1)\">x</a>", "javascript:alert(document.cookie)",
        "<IMG SRC=JaVaScRiPt:alert('XSS')>", "&lt;script&gt;alert(1)&lt;/script&gt;", "%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        "<img src=x onerror=&#97;&#108;&#101;&#114;&#116;(1)>", "<div style=\"width: expression(alert(1))\">", "<object data=\"data:text/html;base64,PHNjcmlwdD4=\">",
        "<embed src=x.swf>", "<math><mtext><img src=x onerror=alert(1)>", "<details open ontoggle=alert(1)>", "<input autofocus onfocus=alert(1)>",
        "<iframe srcdoc=\"<script>alert(1)</script>\">", "\"><script>alert(1)</script>", "'><img src=x onerror=prompt(1)>", "<link rel=import href=x>",
        "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">", "{{constructor.constructor('alert(1)')()}}", "<style>@import 'x'</style>",
        "<button formaction=javascript:alert(1)>x", "vbscript:msgbox(1)", "<marquee onstart=alert(1)>", "<video><source onerror=alert(1)>", "data:text/html,<script>alert(1)</script>",
    ];

    public static readonly string[] Benign =
    [
        "O'Brien", "Sinéad O'Connor", "select a size", "Please select a size from the menu", "Select your seat", "<3", "I <3 this shop",
        "a < b and c > d", "5 > 3", "Rock & Roll", "Tom & Jerry's", "Drop me a line", "drop-off at 5pm", "Union Square, SF",
        "the union of two sets", "or else", "1 or 2 tickets", "Order by phone", "Delete my account, please", "update me when it ships",
        "JavaScript is fun", "I like javascript: it is fun", "onion rings", "on=off", "script writer", "Insert coin", "Created by Alice",
        "It's 50% off -- today only", "C# or F#", "Ranked #1", "He said \"yes\"; then left", "email me at a.b@example.com",
        "https://example.com/search?q=shoes&page=2", "2 + 2 = 4", "x = y", "Where is my order?", "from 9 to 5", "Table for two",
        "a=1; b=2", "Call me at (555) 123-4567", "#hashtag", "rock 'n' roll", "Gerald's \"special\" offer", "expression (math)", "wait for delay",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36", "text/html,application/xhtml+xml;q=0.9", "<b>bold</b> text",
    ];

    // A free-text field: code an engineer pasted, which looks exactly like an attack and is allowed there.
    public static readonly string[] FreeTextSnippets =
    [
        "SELECT * FROM users WHERE id = 1; DROP TABLE users;", "<script>alert(1)</script>", "' OR '1'='1", "<img src=x onerror=alert(1)>",
    ];

    [Fact]
    public void Every_attack_string_is_caught_and_no_benign_look_alike_is()
    {
        var sqlCaught = SqlAttacks.Count(InjectionSignatures.IsSqlInjection);
        var xssCaught = XssAttacks.Count(InjectionSignatures.IsXss);
        var falsePositives = Benign.Where(b => InjectionSignatures.IsSqlInjection(b) || InjectionSignatures.IsXss(b)).ToList();

        output.WriteLine($"SQL injection: {sqlCaught}/{SqlAttacks.Length} caught; XSS: {xssCaught}/{XssAttacks.Length} caught; benign: {Benign.Length - falsePositives.Count}/{Benign.Length} passed.");
        Assert.Equal([], SqlAttacks.Where(a => !InjectionSignatures.IsSqlInjection(a)));
        Assert.Equal([], XssAttacks.Where(a => !InjectionSignatures.IsXss(a)));
        Assert.Equal([], falsePositives);
    }

    [Fact]
    public async Task A_screened_route_refuses_attacks_in_path_query_headers_and_JSON_and_lets_free_text_fields_carry_code()
    {
        var route = Compile("""{"injection":{"sql":true,"xss":true,"freeText":["/snippet","/notes/*/text"]}}""");

        var attack = await RunAsync(route, path: "/r/%3Cscript%3E", query: "?q=' OR '1'='1", headers: [("X-Name", "<img src=x onerror=alert(1)>")],
            body: """{"name":"1; DROP TABLE users","snippet":"x"}""");
        var benign = await RunAsync(route, query: "?q=O'Brien", headers: [("X-Note", "I <3 this")],
            body: System.Text.Json.JsonSerializer.Serialize(new { name = "Sinéad O'Connor", comment = "select a size", snippet = FreeTextSnippets[0], notes = FreeTextSnippets.Skip(1).Select(t => new { text = t }) }));

        Assert.Equal(
            [("path", "", "xss"), ("query", "q", "sqlInjection"), ("header", "X-Name", "xss"), ("body", "/name", "sqlInjection")],
            attack.Violations);
        Assert.True(benign.Continues, string.Join(", ", benign.Violations));
    }
}
