using System.Text;
using FuncGateway.Authentication;
using FuncGateway.Authentication.Jwt;
using FuncGateway.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace FuncGateway.Core.Tests.Authentication;

/// <summary>
/// The strict token reading's edges (<see cref="JwsCompactFormat"/>), and what the log says. End-to-end refusals are in
/// Server.Tests' JwtTests.Strictness.cs.
/// </summary>
public sealed class JwtStrictnessTests : IDisposable
{
    private static readonly DateTimeOffset Start = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);

    private readonly TestSigningKey _key = TestSigningKey.Rsa("k1");
    private readonly FakeTimeProvider _clock = new(Start);
    private readonly ListLogger _log = new();

    public void Dispose() => _key.Dispose();

    private static string Seg(string json) => TestSigningKey.B64(Encoding.UTF8.GetBytes(json));

    private static JwtDefect Check(string header, string payload, string signature = "c2ln") =>
        JwsCompactFormat.Check(Seg(header) + "." + Seg(payload) + "." + signature);

    [Theory]
    [InlineData("""{"sub":"a","roles":["r"],"cnf":{"jkt":"x"}}""", nameof(JwtDefect.None))]
    [InlineData("""{"a":{"x":1},"b":{"x":2},"c":[{"x":1},{"x":2}],"x":3}""", nameof(JwtDefect.None))]
    [InlineData("""{"a":{"b":{"c":1}},"d":{"c":1,"b":1}}""", nameof(JwtDefect.None))]
    [InlineData("""{"exp":1.5e9,"nbf":0,"iat":-1,"x":{"exp":"later","iat":null}}""", nameof(JwtDefect.None))]
    [InlineData("""{"sub":"a","sub":"a"}""", nameof(JwtDefect.DuplicateMember))]
    [InlineData("""{"sub":"a","\u0073ub":"b"}""", nameof(JwtDefect.DuplicateMember))]
    [InlineData("""{"a":[{"x":1,"y":2,"x":3}]}""", nameof(JwtDefect.DuplicateMember))]
    [InlineData("""{"a":{"b":{"c":1},"b":2}}""", nameof(JwtDefect.DuplicateMember))]
    [InlineData("""{"a":{"x":1},"x":2,"a":3}""", nameof(JwtDefect.DuplicateMember))]
    [InlineData("""{"exp":"1800000000"}""", nameof(JwtDefect.NumericDateNotNumber))]
    [InlineData("""{"nbf":null}""", nameof(JwtDefect.NumericDateNotNumber))]
    [InlineData("""{"\u0069at":{}}""", nameof(JwtDefect.NumericDateNotNumber))]
    [InlineData("""["sub"]""", nameof(JwtDefect.NotJsonObject))]
    [InlineData("""{"sub":"a"}{"sub":"b"}""", nameof(JwtDefect.NotJsonObject))]
    [InlineData("""{"sub":"a",}""", nameof(JwtDefect.NotJsonObject))]
    [InlineData("""{"sub":"a"/* c */}""", nameof(JwtDefect.NotJsonObject))]
    public void The_payload_is_one_JSON_object_with_unique_names_and_numeric_dates(string payload, string expected) =>
        Assert.Equal(Enum.Parse<JwtDefect>(expected), Check("""{"alg":"RS256"}""", payload));

    [Theory]
    [InlineData("""{"alg":"RS256","kid":"k1"}""", nameof(JwtDefect.None))]
    [InlineData("""{"alg":"RS256","x":{"kid":1}}""", nameof(JwtDefect.None))]
    [InlineData("""{"alg":"RS256","kid":null}""", nameof(JwtDefect.KidNotString))]
    [InlineData("""{"alg":"RS256","kid":7}""", nameof(JwtDefect.KidNotString))]
    [InlineData("""{"alg":"RS256","alg":"RS256"}""", nameof(JwtDefect.DuplicateMember))]
    public void A_header_kid_is_a_string_and_header_names_are_unique(string header, string expected) =>
        Assert.Equal(Enum.Parse<JwtDefect>(expected), Check(header, """{"sub":"a"}"""));

    [Theory]
    [InlineData("", true)]
    [InlineData("AQ", true)]
    [InlineData("AA", true)]
    [InlineData("AB", false)]
    [InlineData("AR", false)]
    [InlineData("AAE", true)]
    [InlineData("AAB", false)]
    [InlineData("AAA", true)]
    [InlineData("AAAA", true)]
    [InlineData("AAAAA", false)]
    [InlineData("AA==", false)]
    [InlineData("-_-_", true)]
    [InlineData("+/+/", false)]
    [InlineData("AA AA", false)]
    [InlineData("AAAA\n", false)]
    [InlineData("AAA%", false)]
    public void Base64url_is_accepted_only_in_its_canonical_unpadded_spelling(string value, bool canonical)
    {
        Assert.Equal(canonical, JwsCompactFormat.IsCanonicalBase64Url(value));
        var token = Seg("""{"alg":"RS256"}""") + "." + Seg("""{"sub":"a"}""") + "." + value;
        Assert.Equal(canonical ? JwtDefect.None : JwtDefect.NotBase64Url, JwsCompactFormat.Check(token));
    }

    [Fact]
    public void Only_three_segments_are_read()
    {
        var payload = Seg("""{"sub":"a"}""");
        Assert.Equal(JwtDefect.NotBase64Url, JwsCompactFormat.Check(Seg("""{"alg":"RS256"}""") + "." + payload));
        Assert.Equal(JwtDefect.NotBase64Url, JwsCompactFormat.Check(Seg("""{"alg":"RS256"}""") + "." + payload + ".c2ln.x"));
        Assert.Equal(JwtDefect.None, JwsCompactFormat.Check(Seg("""{"alg":"RS256"}""") + "." + payload + "."));
    }

    private JwtPolicy Policy()
    {
        var settings = new JwtPolicySettings("corp")
        {
            Issuer = "https://idp",
            Audiences = ["api"],
            Jwks = TestSigningKey.Jwks([_key]),
            Algorithms = ["RS256"],
            ClockSkew = TimeSpan.FromSeconds(60),
        };
        return new JwtPolicy(settings, new SigningKeySource(settings, null, _clock, _log), _clock, _log);
    }

    [Fact]
    public async Task A_malformed_token_is_described_as_malformed_and_the_log_says_which_rule()
    {
        var policy = Policy();
        var token = _key.MintJson("""{"alg":"RS256","kid":"k1"}""", """{"iss":"https://idp","aud":"api","exp":1800000600,"sub":"u","sub":"admin"}""");

        var attempt = await policy.AuthenticateAsync(token, default);

        Assert.Equal(("invalid_token", "The token is malformed."), (attempt.Code, attempt.Description));
        Assert.Equal("Policy 'corp' refused a token: the header or payload repeats a member name.", Assert.Single(_log.Refusals));
        Assert.All(_log.Lines, line => Assert.DoesNotContain("admin", line, StringComparison.Ordinal));
    }

    private sealed class ListLogger : ILogger
    {
        private readonly List<(EventId Id, string Line)> _entries = [];

        public IReadOnlyList<string> Lines => [.. _entries.Select(e => e.Line)];

        public IReadOnlyList<string> Refusals => [.. _entries.Where(e => e.Id.Id == 4040).Select(e => e.Line)];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (_entries)
            {
                _entries.Add((eventId, formatter(state, exception)));
            }
        }
    }
}
