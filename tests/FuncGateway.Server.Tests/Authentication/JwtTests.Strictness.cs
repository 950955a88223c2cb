using System.Net;
using System.Text;
using System.Text.Json;
using FuncGateway.Server.Tests.Infrastructure;
using FuncGateway.Testing;

namespace FuncGateway.Server.Tests.Authentication;

/// <summary>
/// RFC 8725 / RFC 9068 strictness, end to end: each refused token is signed by the IdP's real key, so the defect under
/// test is its only one, and each refusal sits next to the same token without the defect being accepted.
/// </summary>
public sealed partial class JwtTests
{
    private static long Now => TimeProvider.System.GetUtcNow().ToUnixTimeSeconds();

    private string Header(string extra = "") => $$"""{"alg":"RS256","typ":"JWT","kid":"{{_rsa.Kid}}"{{extra}}}""";

    /// <summary>A valid payload's members (iss, aud, iat, exp, sub, roles) followed by <paramref name="extra"/>.</summary>
    private string Payload(string extra = "", string? iat = null, string? exp = null) =>
        $$"""{"iss":"{{_idp.Issuer}}","aud":"{{Audience}}","iat":{{iat ?? Now.ToString()}},"exp":{{exp ?? (Now + 300).ToString()}},"sub":"user-42","roles":["reader"]{{extra}}}""";

    private async Task AssertAcceptedAsync(string path, string token, string because)
    {
        using var response = await SendAsync(path, token);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{because}: expected 200, got {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        Assert.Equal("user-42", (await Echo.ReadAsync(response)).Header("X-User-Id").Single());
    }

    /// <summary>The same 401 as any other refused token: invalid_token, the Bearer challenge, our words, no upstream call.</summary>
    private async Task AssertRefusedAsync(string path, string token, string because, string description)
    {
        var before = _echo.RequestCount;
        using var response = await SendAsync(path, token);
        Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{because}: expected 401, got {(int)response.StatusCode}");
        var body = await Problem.AssertAsync(response, HttpStatusCode.Unauthorized, "invalid_token");
        Assert.Equal($"Bearer error=\"invalid_token\", error_description=\"{description}\"", response.Headers.WwwAuthenticate.Single().ToString());
        Assert.Equal(description, body.GetProperty("detail").GetString());
        Assert.DoesNotContain(token.Split('.')[1], body.GetRawText(), StringComparison.Ordinal);
        Assert.Equal(before, _echo.RequestCount);
    }

    [Fact]
    public async Task A_duplicate_member_name_in_the_header_or_the_payload_is_refused()
    {
        await AssertAcceptedAsync("/jwt/x", _rsa.MintJson(Header(), Payload()), "no duplicates");
        await AssertAcceptedAsync("/jwt/x", _rsa.MintJson(Header(), Payload(""","cnf":{"a":1},"x":{"a":2}""")), "one name in two objects");

        var cases = new Dictionary<string, string>
        {
            // The IdP's parser keeps the first sub; a last-wins parser would forward "admin-1".
            ["sub twice"] = _rsa.MintJson(Header(), Payload(""","sub":"admin-1" """)),
            ["sub twice, the second escaped"] = _rsa.MintJson(Header(), Payload(""","\u0073ub":"admin-1" """)),
            ["exp twice"] = _rsa.MintJson(Header(), Payload($""","exp":{Now + 86_400}""")),
            ["a duplicate inside a nested object"] = _rsa.MintJson(Header(), Payload(""","cnf":{"jkt":"a","jkt":"b"}""")),
            ["alg twice"] = _rsa.MintJson("""{"alg":"none","typ":"JWT","kid":"rsa-1","alg":"RS256"}""", Payload()),
            ["kid twice"] = _rsa.MintJson(Header($""","kid":"{_rsa.Kid}" """), Payload()),
        };

        foreach (var (name, token) in cases)
        {
            await AssertRefusedAsync("/jwt/x", token, name, "The token is malformed.");
        }

        // The role that only the last duplicate grants opens nothing.
        await AssertRefusedAsync("/admins/x", _rsa.MintJson(Header(), Payload(""","roles":["admin"]""")), "roles twice", "The token is malformed.");
    }

    [Fact]
    public async Task Exp_nbf_and_iat_that_are_not_JSON_numbers_are_refused()
    {
        var exp = Now + 300;
        await AssertAcceptedAsync("/jwt/x", _rsa.MintJson(Header(), Payload($""","nbf":{Now - 10}""")), "numbers");
        await AssertAcceptedAsync("/jwt/x", _rsa.MintJson(Header(), Payload(exp: $"{exp}.5")), "a fractional NumericDate is a number");

        var cases = new Dictionary<string, string>
        {
            ["exp as a string"] = _rsa.MintJson(Header(), Payload(exp: $"\"{exp}\"")),
            ["iat as a string"] = _rsa.MintJson(Header(), Payload(iat: $"\"{Now}\"")),
            ["nbf as a string"] = _rsa.MintJson(Header(), Payload($""","nbf":"{Now - 10}" """)),
            ["iat null"] = _rsa.MintJson(Header(), Payload(iat: "null")),
            ["nbf true"] = _rsa.MintJson(Header(), Payload(""","nbf":true""")),
            ["exp as an array"] = _rsa.MintJson(Header(), Payload(exp: $"[{exp}]")),
        };

        foreach (var (name, token) in cases)
        {
            await AssertRefusedAsync("/jwt/x", token, name, "The token is malformed.");
        }
    }

    [Fact]
    public async Task A_kid_that_is_present_must_be_a_string()
    {
        await AssertAcceptedAsync("/jwt/x", _rsa.MintJson(Header(), Payload()), "kid a string");
        await AssertAcceptedAsync("/jwt/x", _rsa.MintJson("""{"alg":"RS256","typ":"JWT"}""", Payload()), "no kid: every key is tried");

        foreach (var kid in new[] { "null", "1", "true", """["rsa-1"]""", """{"id":"rsa-1"}""" })
        {
            var token = _rsa.MintJson($$"""{"alg":"RS256","typ":"JWT","kid":{{kid}}}""", Payload());
            await AssertRefusedAsync("/jwt/x", token, "kid " + kid, "The token is malformed.");
        }
    }

    [Fact]
    public async Task Every_segment_must_be_strict_base64url_without_padding()
    {
        // Pad the JSON with insignificant spaces until its base64 needs padding, so padding is the only change.
        static string Padded(string json)
        {
            while (Encoding.UTF8.GetByteCount(json) % 3 == 0)
            {
                json = json.Insert(1, " ");
            }

            return Convert.ToBase64String(Encoding.UTF8.GetBytes(json)).Replace('+', '-').Replace('/', '_');
        }

        static string Url(string json) => TestSigningKey.B64(Encoding.UTF8.GetBytes(json));
        string Signed(string header, string payload) => header + "." + payload + "." + TestSigningKey.B64(_rsa.Sign(header + "." + payload));

        // A signature whose base64url uses both '-' and '_' (a claim is varied until it does), so swapping the alphabet changes it.
        string token;
        var n = 0;
        do
        {
            token = _rsa.MintJson(Header(), Payload($""","jti":"{n++}" """));
        }
        while (!(token.Split('.')[2].Contains('-', StringComparison.Ordinal) && token.Split('.')[2].Contains('_', StringComparison.Ordinal)));

        await AssertAcceptedAsync("/jwt/x", token, "canonical base64url");
        var parts = token.Split('.');
        var signature = parts[2];
        Assert.Equal(2, signature.Length % 4);
        const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        var last = Alphabet.IndexOf(signature[^1], StringComparison.Ordinal);
        Assert.Equal(0, last & 0b1111);

        var header = Padded(Header());
        var payload = Padded(Payload());
        Assert.EndsWith("=", header, StringComparison.Ordinal);
        Assert.EndsWith("=", payload, StringComparison.Ordinal);
        var cases = new Dictionary<string, string>
        {
            ["signature padded"] = $"{parts[0]}.{parts[1]}.{signature}==",
            ["signature in the base64 alphabet (+ /)"] = $"{parts[0]}.{parts[1]}.{signature.Replace('-', '+').Replace('_', '/')}",
            ["signature with non-zero trailing bits"] = $"{parts[0]}.{parts[1]}.{signature[..^1]}{Alphabet[last | 1]}",
            ["signature with a space inside"] = $"{parts[0]}.{parts[1]}.{signature[..100]} {signature[100..]}",
            ["signature with a character outside base64"] = $"{parts[0]}.{parts[1]}.{signature[..100]}*{signature[101..]}",
            ["header padded (and signed so)"] = Signed(header, Url(Payload())),
            ["payload padded (and signed so)"] = Signed(Url(Header()), payload),
        };

        foreach (var (name, bad) in cases)
        {
            await AssertRefusedAsync("/jwt/x", bad, name, "The token is malformed.");
        }

        await AssertAcceptedAsync("/jwt/x", Signed(Url(Header()), Url(Payload())), "the same, unpadded");
    }

    [Fact]
    public async Task RequireTyp_accepts_only_that_media_type_so_an_ID_token_is_never_an_access_token()
    {
        foreach (var typ in new[] { "at+jwt", "AT+JWT", "application/at+jwt", "Application/At+Jwt" })
        {
            await AssertAcceptedAsync("/access/x", _rsa.MintJson($$"""{"alg":"RS256","typ":"{{typ}}","kid":"rsa-1"}""", Payload()), "typ " + typ);
        }

        var refused = new Dictionary<string, string>
        {
            ["an ID token (typ JWT)"] = _rsa.MintJson(Header(), Payload()),
            ["no typ"] = _rsa.MintJson("""{"alg":"RS256","kid":"rsa-1"}""", Payload()),
            ["typ application/jwt"] = _rsa.MintJson("""{"alg":"RS256","typ":"application/jwt","kid":"rsa-1"}""", Payload()),
            ["typ with another prefix"] = _rsa.MintJson("""{"alg":"RS256","typ":"text/at+jwt","kid":"rsa-1"}""", Payload()),
            ["typ with a suffix"] = _rsa.MintJson("""{"alg":"RS256","typ":"at+jwt2","kid":"rsa-1"}""", Payload()),
        };

        foreach (var (name, token) in refused)
        {
            await AssertRefusedAsync("/access/x", token, name, "The token is invalid.");
        }

        await AssertRefusedAsync("/access/x", _rsa.MintJson("""{"alg":"RS256","typ":["at+jwt"],"kid":"rsa-1"}""", Payload()), "typ not a string", "The token is malformed.");

        // Off by default: the same ID token is fine where the policy does not ask for a type.
        await AssertAcceptedAsync("/jwt/x", _rsa.MintJson(Header(), Payload()), "RequireTyp unset");
    }

    [Fact]
    public async Task MaxTokenLifetimeSeconds_refuses_tokens_issued_for_longer_or_still_valid_for_longer()
    {
        var twoHours = Now + 7200;
        var noIat = JsonSerializer.Serialize(new Dictionary<string, object> { ["iss"] = _idp.Issuer, ["aud"] = Audience, ["exp"] = twoHours, ["sub"] = "user-42" });

        await AssertAcceptedAsync("/short/x", _rsa.MintJson(Header(), Payload(exp: (Now + 3500).ToString())), "within the limit");
        await AssertAcceptedAsync("/jwt/x", _rsa.MintJson(Header(), Payload(exp: twoHours.ToString())), "no limit by default");
        await AssertAcceptedAsync("/jwt/x", _rsa.MintJson(Header(), noIat), "no limit by default, no iat");

        var cases = new Dictionary<string, string>
        {
            ["exp - iat of two hours"] = _rsa.MintJson(Header(), Payload(exp: twoHours.ToString())),
            ["no iat, exp two hours away"] = _rsa.MintJson(Header(), noIat),
            ["issued three hours ago for three hours and five minutes"] = _rsa.MintJson(Header(), Payload(iat: (Now - 10_800).ToString())),
        };

        foreach (var (name, token) in cases)
        {
            await AssertRefusedAsync("/short/x", token, name, "The token's lifetime is invalid.");
        }
    }

    [Fact]
    public async Task An_iat_in_the_future_beyond_the_clock_skew_is_refused()
    {
        // ClockSkewSeconds is 60 by default.
        await AssertAcceptedAsync("/jwt/x", _rsa.MintJson(Header(), Payload(iat: (Now + 20).ToString())), "within the skew");
        await AssertRefusedAsync("/jwt/x", _rsa.MintJson(Header(), Payload(iat: (Now + 240).ToString())), "four minutes ahead", "The token's lifetime is invalid.");
    }
}
