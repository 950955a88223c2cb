using FuncGateway.Authentication;
using FuncGateway.Authentication.Jwt;
using FuncGateway.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace FuncGateway.Core.Tests.Authentication;

/// <summary>The JWKS cache's bounds, on a fake clock with a counting retriever.</summary>
public sealed class SigningKeySourceTests : IDisposable
{
    private readonly FakeTimeProvider _clock = new();
    private readonly FakeKeySetRetriever _idp = new();
    private readonly TestSigningKey _k1 = TestSigningKey.Rsa("k1");
    private readonly TestSigningKey _k2 = TestSigningKey.Rsa("k2");

    private SigningKeySource Source(double keyRefresh = 300, double unknownRefresh = 30) => new(
        new JwtPolicySettings("corp")
        {
            Issuer = "https://idp",
            JwksUri = "https://idp/jwks",
            KeyRefreshInterval = TimeSpan.FromSeconds(keyRefresh),
            UnknownKeyRefreshInterval = TimeSpan.FromSeconds(unknownRefresh),
        },
        _idp, _clock, NullLogger.Instance);

    [Fact]
    public async Task A_flood_of_unknown_kids_fetches_at_most_once_per_interval()
    {
        _idp.Keys = [_k1];
        var source = Source();
        Assert.NotNull(await source.GetAsync("k1", KeyFamily.Rsa, default));
        Assert.Equal(1, _idp.Fetches);

        _clock.Advance(TimeSpan.FromSeconds(31));
        var flood = Enumerable.Range(0, 200).Select(i => source.GetAsync("random-" + i, KeyFamily.Rsa, default).AsTask());
        await Task.WhenAll(flood);
        Assert.Equal(2, _idp.Fetches);

        for (var i = 0; i < 100; i++)
        {
            await source.GetAsync("again-" + i, KeyFamily.Rsa, default);
        }

        Assert.Equal(2, _idp.Fetches);
        _clock.Advance(TimeSpan.FromSeconds(30));
        await source.GetAsync("later", KeyFamily.Rsa, default);
        Assert.Equal(3, _idp.Fetches);
    }

    [Fact]
    public async Task A_new_kid_is_fetched_once_and_a_removed_key_goes_after_the_refresh_interval()
    {
        _idp.Keys = [_k1];
        var source = Source(keyRefresh: 60, unknownRefresh: 5);
        await source.GetAsync("k1", KeyFamily.Rsa, default);

        _idp.Keys = [_k1, _k2];
        _clock.Advance(TimeSpan.FromSeconds(6));
        var keys = await source.GetAsync("k2", KeyFamily.Rsa, default);
        Assert.True(keys!.Contains("k2", KeyFamily.Rsa));
        Assert.Equal(2, _idp.Fetches);

        _idp.Keys = [_k2];
        _clock.Advance(TimeSpan.FromSeconds(59));
        Assert.True((await source.GetAsync("k1", KeyFamily.Rsa, default))!.Contains("k1", KeyFamily.Rsa));
        Assert.Equal(2, _idp.Fetches);

        _clock.Advance(TimeSpan.FromSeconds(1));
        await source.GetAsync("k2", KeyFamily.Rsa, default);
        await source.PendingRefresh!;
        Assert.Equal(3, _idp.Fetches);
        Assert.False((await source.GetAsync("k2", KeyFamily.Rsa, default))!.Contains("k1", KeyFamily.Rsa));
    }

    [Fact]
    public async Task An_outage_keeps_the_keys_held_and_retries_at_the_throttled_pace()
    {
        _idp.Keys = [_k1];
        var source = Source(keyRefresh: 10, unknownRefresh: 5);
        await source.GetAsync("k1", KeyFamily.Rsa, default);

        _idp.Down = true;
        for (var i = 0; i < 5; i++)
        {
            _clock.Advance(TimeSpan.FromSeconds(10));
            var keys = await source.GetAsync("k1", KeyFamily.Rsa, default);
            if (source.PendingRefresh is { } pending)
            {
                await pending;
            }

            Assert.True(keys!.Contains("k1", KeyFamily.Rsa));
        }

        Assert.Equal(6, _idp.Fetches);
    }

    [Fact]
    public async Task Without_any_keys_yet_a_down_IdP_gives_null_and_is_not_asked_again_within_the_interval()
    {
        _idp.Down = true;
        var source = Source(unknownRefresh: 5);

        Assert.Null(await source.GetAsync("k1", KeyFamily.Rsa, default));
        Assert.Null(await source.GetAsync("k1", KeyFamily.Rsa, default));
        Assert.Equal(1, _idp.Fetches);

        _idp.Down = false;
        _idp.Keys = [_k1];
        _clock.Advance(TimeSpan.FromSeconds(5));
        Assert.NotNull(await source.GetAsync("k1", KeyFamily.Rsa, default));
        Assert.Equal(2, _idp.Fetches);
    }

    [Fact]
    public void A_JWKS_never_yields_symmetric_keys_or_weak_RSA_keys()
    {
        using var weak = System.Security.Cryptography.RSA.Create(1024);
        var p = weak.ExportParameters(false);
        var json = $$"""
            {"keys":[
              {"kty":"oct","kid":"hmac","k":"{{TestSigningKey.B64(new byte[32])}}"},
              {"kty":"RSA","kid":"weak","n":"{{TestSigningKey.B64(p.Modulus!)}}","e":"{{TestSigningKey.B64(p.Exponent!)}}"},
              {"kty":"RSA","kid":"enc","use":"enc","n":"{{_k1.PublicJwk()["n"]}}","e":"AQAB"},
              {{_k1.PublicJwk().ToJsonString()}}
            ]}
            """;

        var set = SigningKeySet.FromJwks(json, "corp");

        Assert.Equal(["k1"], set.Keys.Select(k => k.KeyId));
        Assert.Empty(set.Candidates("k1", "HS256", KeyFamily.Hmac));
    }

    public void Dispose()
    {
        _k1.Dispose();
        _k2.Dispose();
    }
}
