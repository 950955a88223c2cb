using FuncGateway.Backend;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace FuncGateway.Core.Tests.Authentication;

/// <summary>The header contract and the documented canonical form, checked against a vector computed outside .NET.</summary>
public sealed class SignedContextFormatTests
{
    private const string Key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

    [Theory]
    [InlineData("X-User-Id", true)]
    [InlineData("x-user-id", true)]
    [InlineData("X_User_Id", true)]
    [InlineData("x.user.id", true)]
    [InlineData("X--USER--ID", true)]
    [InlineData("XUser-Id", true)]
    [InlineData("X-User", true)]
    [InlineData("X-Consumer-Tier", true)]
    [InlineData("x_consumer_id", true)]
    [InlineData("X-Gateway-Signature", true)]
    [InlineData("-X-Gateway-Anything", true)]
    [InlineData("XUserId", true)]
    [InlineData("X-UserId", true)]
    [InlineData("XConsumerId", true)]
    [InlineData("X-ConsumerTier", true)]
    [InlineData("XGatewayAuthPolicy", true)]
    [InlineData("X-GatewayAuthPolicy", true)]
    [InlineData("X-UserRoles", true)]
    [InlineData("X-Username", false)]
    [InlineData("X-Users-Count", false)]
    [InlineData("X-Forwarded-For", false)]
    [InlineData("User-Agent", false)]
    [InlineData("X-Request-Id", false)]
    [InlineData("Authorization", false)]
    public void The_identity_namespace_includes_look_alikes(string name, bool expected) =>
        Assert.Equal(expected, GatewayHeaders.IsIdentityNamespace(name));

    [Theory]
    [InlineData("user-42", "user-42")]
    [InlineData("ada@example.com", "ada@example.com")]
    [InlineData("https://issuer/|sub", "https://issuer/%7Csub")]
    [InlineData("a,b", "a%2Cb")]
    [InlineData("evil\r\nX-User-Id: admin", "evil%0D%0AX-User-Id:%20admin")]
    [InlineData("José \"q\"", "Jos%C3%A9%20%22q%22")]
    [InlineData("100%", "100%25")]
    [InlineData("a+b", "a%2Bb")]
    public void Values_are_percent_encoded_outside_a_small_safe_set_and_decode_back(string value, string encoded)
    {
        Assert.Equal(encoded, GatewayHeaderValue.Encode(value));
        Assert.Equal(value, GatewayHeaderValue.Decode(encoded));
    }

    [Fact]
    public void The_canonical_string_and_signature_match_the_documented_example()
    {
        var headers = new Dictionary<string, string>
        {
            ["X-User-Roles"] = "reader,admin",
            ["X-User-Id"] = "user-42",
            ["X-Gateway-Auth-Policy"] = "corp",
            ["X-Consumer-Id"] = " acme ",
            ["X-Forwarded-For"] = "10.0.0.1",
            ["X-Gateway-Signature"] = "ignored",
        };

        var canonical = GatewaySignature.BuildCanonicalString(1718000000, "k1", "get", "/orders/5?x=1", headers);

        Assert.Equal(
            "FGW1-HMAC-SHA256\n1718000000\nk1\nGET\n/orders/5?x=1\nx-consumer-id:acme\nx-gateway-auth-policy:corp\nx-user-id:user-42\nx-user-roles:reader,admin",
            canonical);
        Assert.Equal("v1=82ee19462762a9770df403a3dd964ba592b68860acdf7be7de675c4867c23b8e", GatewaySignature.Sign(Convert.FromBase64String(Key), canonical));
    }

    private static (GatewaySignatureVerifier Verifier, FakeTimeProvider Clock) Verifier(params (string Id, string Key)[] keys)
    {
        var options = new GatewaySignatureOptions { MaxAgeSeconds = 30 };
        foreach (var (id, key) in keys)
        {
            options.Keys[id] = key;
        }

        var clock = new FakeTimeProvider(DateTimeOffset.FromUnixTimeSeconds(1718000000));
        return (new GatewaySignatureVerifier(Options.Create(options), clock), clock);
    }

    private static DefaultHttpContext SignedRequest(string keyId = "k1", long timestamp = 1718000000)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "GET";
        context.Request.Path = "/orders/5";
        context.Request.QueryString = new QueryString("?x=1");
        var headers = context.Request.Headers;
        headers["X-User-Id"] = "user-42";
        headers["X-User-Roles"] = "reader,admin";
        headers["X-Gateway-Auth-Policy"] = "corp";
        headers["X-Consumer-Id"] = "acme";
        headers["X-Gateway-Timestamp"] = timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture);
        headers["X-Gateway-Key-Id"] = keyId;
        headers["X-Gateway-Signature"] = "v1=82ee19462762a9770df403a3dd964ba592b68860acdf7be7de675c4867c23b8e";
        return context;
    }

    [Fact]
    public void The_verifier_accepts_the_example_and_refuses_every_change()
    {
        var (verifier, clock) = Verifier(("k1", Key), ("k2", Convert.ToBase64String(new byte[48])));

        Assert.Equal(GatewaySignatureFailure.None, verifier.Verify(SignedRequest().Request));

        var tampered = SignedRequest();
        tampered.Request.Headers["X-User-Id"] = "admin";
        Assert.Equal(GatewaySignatureFailure.Invalid, verifier.Verify(tampered.Request));

        var added = SignedRequest();
        added.Request.Headers["X-User-Admin"] = "true";
        Assert.Equal(GatewaySignatureFailure.Invalid, verifier.Verify(added.Request));

        var removed = SignedRequest();
        removed.Request.Headers.Remove("X-Consumer-Id");
        Assert.Equal(GatewaySignatureFailure.Invalid, verifier.Verify(removed.Request));

        var doubled = SignedRequest();
        doubled.Request.Headers.Append("X-User-Id", "admin");
        Assert.Equal(GatewaySignatureFailure.Invalid, verifier.Verify(doubled.Request));

        var otherQuery = SignedRequest();
        otherQuery.Request.QueryString = new QueryString("?x=2");
        Assert.Equal(GatewaySignatureFailure.Invalid, verifier.Verify(otherQuery.Request));

        var otherKey = SignedRequest(keyId: "k2");
        Assert.Equal(GatewaySignatureFailure.Invalid, verifier.Verify(otherKey.Request));

        Assert.Equal(GatewaySignatureFailure.UnknownKey, verifier.Verify(SignedRequest(keyId: "k9").Request));

        var unsigned = SignedRequest();
        unsigned.Request.Headers.Remove("X-Gateway-Signature");
        Assert.Equal(GatewaySignatureFailure.Missing, verifier.Verify(unsigned.Request));

        clock.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(GatewaySignatureFailure.None, verifier.Verify(SignedRequest().Request));
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(GatewaySignatureFailure.Stale, verifier.Verify(SignedRequest().Request));

        // From the future, as far out: refused before the signature is even computed.
        var (fresh, _) = Verifier(("k1", Key));
        Assert.Equal(GatewaySignatureFailure.Stale, fresh.Verify(SignedRequest(timestamp: 1718000031).Request));
    }

    [Fact]
    public void A_verifier_without_keys_or_with_a_short_key_does_not_start()
    {
        Assert.Throws<OptionsValidationException>(() => Verifier());
        Assert.Throws<OptionsValidationException>(() => Verifier(("k1", Convert.ToBase64String(new byte[16]))));
    }
}
