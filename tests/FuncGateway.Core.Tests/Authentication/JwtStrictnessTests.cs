using System.Globalization;
using System.Text;
using FuncGateway.Authentication;
using FuncGateway.Authentication.Jwt;
using FuncGateway.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace FuncGateway.Core.Tests.Authentication;

/// <summary>
/// The strict token reading's edges (<see cref="JwsCompactFormat"/>) and the lifetime bounds to the second on a fake
/// clock, with what the log says. End-to-end refusals are in Server.Tests' JwtStrictnessTests.
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
        JwsCompactFormat.Check(Seg(header) + "." + Seg(payload) + "." + signature, readTyp: false, out _);

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
        Assert.Equal(canonical ? JwtDefect.None : JwtDefect.NotBase64Url, JwsCompactFormat.Check(token, readTyp: false, out _));
    }

    [Fact]
    public void Only_three_segments_are_read_and_typ_is_returned_only_when_asked_and_a_string()
    {
        var payload = Seg("""{"sub":"a"}""");
        Assert.Equal(JwtDefect.NotBase64Url, JwsCompactFormat.Check(Seg("""{"alg":"RS256"}""") + "." + payload, readTyp: false, out _));
        Assert.Equal(JwtDefect.NotBase64Url, JwsCompactFormat.Check(Seg("""{"alg":"RS256"}""") + "." + payload + ".c2ln.x", readTyp: false, out _));

        Assert.Equal(JwtDefect.None, JwsCompactFormat.Check(Seg("""{"typ":"at+jwt"}""") + "." + payload + ".", readTyp: true, out var typ));
        Assert.Equal("at+jwt", typ);
        Assert.Equal(JwtDefect.None, JwsCompactFormat.Check(Seg("""{"typ":"at+jwt"}""") + "." + payload + ".", readTyp: false, out typ));
        Assert.Null(typ);
        Assert.Equal(JwtDefect.None, JwsCompactFormat.Check(Seg("""{"typ":1}""") + "." + payload + ".", readTyp: true, out typ));
        Assert.Null(typ);
    }

    private JwtPolicy Policy(TimeSpan? maxLifetime)
    {
        var settings = new JwtPolicySettings("corp")
        {
            Issuer = "https://idp",
            Audiences = ["api"],
            Jwks = TestSigningKey.Jwks([_key]),
            Algorithms = ["RS256"],
            ClockSkew = TimeSpan.FromSeconds(60),
            MaxTokenLifetime = maxLifetime,
        };
        return new JwtPolicy(settings, new SigningKeySource(settings, null, _clock, _log), _clock, _log);
    }

    /// <summary>A valid token whose iat and exp are these many seconds from the fake clock's now.</summary>
    private string Token(long? iat, long exp)
    {
        var now = _clock.GetUtcNow().ToUnixTimeSeconds();
        var iatMember = iat is { } i ? string.Create(CultureInfo.InvariantCulture, $"\"iat\":{now + i},") : "";
        return _key.MintJson("""{"alg":"RS256","kid":"k1"}""", string.Create(CultureInfo.InvariantCulture, $$"""{"iss":"https://idp","aud":"api",{{iatMember}}"exp":{{now + exp}},"sub":"u"}"""));
    }

    [Fact]
    public async Task An_iat_ahead_by_the_clock_skew_passes_and_one_second_more_is_refused_and_logged()
    {
        var policy = Policy(maxLifetime: null);

        Assert.Equal(AuthOutcome.Success, (await policy.AuthenticateAsync(Token(iat: 60, exp: 600), default)).Outcome);
        Assert.Empty(_log.Refusals);

        var token = Token(iat: 61, exp: 600);
        var attempt = await policy.AuthenticateAsync(token, default);
        Assert.Equal(AuthOutcome.Invalid, attempt.Outcome);
        Assert.Equal("The token's lifetime is invalid.", attempt.Description);
        Assert.Equal("Policy 'corp' refused a token: iat is in the future beyond the clock skew.", Assert.Single(_log.Refusals));
        Assert.All(_log.Lines, line => Assert.DoesNotContain(token.Split('.')[1][..20], line, StringComparison.Ordinal));
    }

    [Fact]
    public async Task MaxTokenLifetime_bounds_exp_minus_iat_exactly_and_exp_minus_now_with_the_skew()
    {
        var policy = Policy(maxLifetime: TimeSpan.FromHours(1));

        Assert.Equal(AuthOutcome.Success, (await policy.AuthenticateAsync(Token(iat: 0, exp: 3600), default)).Outcome);
        Assert.Equal(AuthOutcome.Success, (await policy.AuthenticateAsync(Token(iat: null, exp: 3660), default)).Outcome);
        Assert.Empty(_log.Refusals);

        var tooLong = await policy.AuthenticateAsync(Token(iat: 0, exp: 3601), default);
        var tooFar = await policy.AuthenticateAsync(Token(iat: null, exp: 3661), default);
        Assert.Equal(("invalid_token", "The token's lifetime is invalid."), (tooLong.Code, tooLong.Description));
        Assert.Equal(("invalid_token", "The token's lifetime is invalid."), (tooFar.Code, tooFar.Description));
        Assert.Equal(
            [
                "Policy 'corp' refused a token: exp - iat exceeds MaxTokenLifetimeSeconds.",
                "Policy 'corp' refused a token: exp is further away than MaxTokenLifetimeSeconds plus the clock skew.",
            ],
            _log.Refusals);

        // A token issued 50 minutes ago for an hour is still fine: what counts is exp - iat, and exp - now is small.
        _clock.Advance(TimeSpan.FromMinutes(50));
        Assert.Equal(AuthOutcome.Success, (await policy.AuthenticateAsync(Token(iat: -3000, exp: 600), default)).Outcome);
        Assert.Equal(2, _log.Refusals.Count);
    }

    [Fact]
    public async Task A_malformed_token_is_described_as_malformed_and_the_log_says_which_rule()
    {
        var policy = Policy(maxLifetime: null);
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
