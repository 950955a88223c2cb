using System.Globalization;
using FuncGateway.Authentication;
using FuncGateway.Authentication.Jwt;
using FuncGateway.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace FuncGateway.Core.Tests.Authentication;

/// <summary>
/// The validated-token cache of a JWT policy, on a fake clock: a repeated token is one validation (the same caller
/// comes back), and the cache never stretches what the token or the keys allow — exp, nbf, the configured maximum,
/// a key removed from the JWKS, another policy's audiences. The end-to-end rotation test is in Server.Tests.
/// </summary>
public sealed class ValidatedTokenCacheTests : IDisposable
{
    private static readonly DateTimeOffset Start = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);

    private readonly TestSigningKey _k1 = TestSigningKey.Rsa("k1");
    private readonly TestSigningKey _k2 = TestSigningKey.Rsa("k2");
    private readonly FakeTimeProvider _clock = new(Start);
    private readonly FakeKeySetRetriever _idp = new();

    public void Dispose()
    {
        _k1.Dispose();
        _k2.Dispose();
    }

    private JwtPolicy Policy(
        string audience = "api", double skew = 0, double cacheSeconds = 300, int cacheSize = 100, bool remote = false, double keyRefresh = 300)
    {
        var settings = new JwtPolicySettings("corp")
        {
            Issuer = "https://idp",
            Audiences = [audience],
            Jwks = remote ? null : TestSigningKey.Jwks([_k1]),
            JwksUri = remote ? "https://idp/jwks" : null,
            Algorithms = ["RS256"],
            ClockSkew = TimeSpan.FromSeconds(skew),
            TokenCacheDuration = TimeSpan.FromSeconds(cacheSeconds),
            TokenCacheSize = cacheSize,
            KeyRefreshInterval = TimeSpan.FromSeconds(keyRefresh),
            UnknownKeyRefreshInterval = TimeSpan.FromSeconds(5),
        };
        return new JwtPolicy(settings, new SigningKeySource(settings, remote ? _idp : null, _clock, NullLogger.Instance), _clock, NullLogger.Instance);
    }

    /// <summary>A token of <paramref name="key"/> whose dates are these many seconds from the fake clock's now.</summary>
    private string Token(long exp, long? nbf = null, string sub = "u", TestSigningKey? key = null)
    {
        var now = _clock.GetUtcNow().ToUnixTimeSeconds();
        var nbfMember = nbf is { } n ? string.Create(CultureInfo.InvariantCulture, $"\"nbf\":{now + n},") : "";
        key ??= _k1;
        return key.MintJson($$"""{"alg":"RS256","kid":"{{key.Kid}}"}""",
            string.Create(CultureInfo.InvariantCulture, $$"""{"iss":"https://idp","aud":"api",{{nbfMember}}"exp":{{now + exp}},"sub":"{{sub}}"}"""));
    }

    [Fact]
    public async Task A_repeated_token_is_validated_once_and_gives_the_same_caller()
    {
        var policy = Policy();
        var token = Token(exp: 600);

        var first = await policy.AuthenticateAsync(token, default);
        var second = await policy.AuthenticateAsync(token, default);

        Assert.Equal(AuthOutcome.Success, first.Outcome);
        Assert.Same(first, second);
        Assert.Equal("u", second.Caller!.UserId);
        Assert.Equal(1, policy.Cache!.Count);
    }

    [Fact]
    public async Task A_cached_token_is_refused_once_it_has_expired()
    {
        var policy = Policy(skew: 0, cacheSeconds: 3600);
        var token = Token(exp: 600);
        var accepted = await policy.AuthenticateAsync(token, default);

        _clock.Advance(TimeSpan.FromSeconds(599));
        Assert.Same(accepted, await policy.AuthenticateAsync(token, default));

        _clock.Advance(TimeSpan.FromSeconds(2));
        var late = await policy.AuthenticateAsync(token, default);
        Assert.Equal(AuthOutcome.Invalid, late.Outcome);
        Assert.Equal("The token has expired.", late.Description);
    }

    [Fact]
    public async Task Within_the_clock_skew_after_exp_the_full_validation_decides_as_without_a_cache()
    {
        var policy = Policy(skew: 60, cacheSeconds: 3600);
        var token = Token(exp: 600);
        var accepted = await policy.AuthenticateAsync(token, default);

        // Past exp the entry is never used; the validation still allows the skew, as it always did.
        _clock.Advance(TimeSpan.FromSeconds(630));
        var again = await policy.AuthenticateAsync(token, default);
        Assert.Equal(AuthOutcome.Success, again.Outcome);
        Assert.NotSame(accepted, again);

        _clock.Advance(TimeSpan.FromSeconds(31));
        Assert.Equal(AuthOutcome.Invalid, (await policy.AuthenticateAsync(token, default)).Outcome);
    }

    [Fact]
    public async Task An_entry_lives_at_most_TokenCacheSeconds()
    {
        var policy = Policy(cacheSeconds: 30);
        var token = Token(exp: 3600);
        var first = await policy.AuthenticateAsync(token, default);

        _clock.Advance(TimeSpan.FromSeconds(29));
        Assert.Same(first, await policy.AuthenticateAsync(token, default));

        _clock.Advance(TimeSpan.FromSeconds(1));
        var revalidated = await policy.AuthenticateAsync(token, default);
        Assert.Equal(AuthOutcome.Success, revalidated.Outcome);
        Assert.NotSame(first, revalidated);
    }

    [Fact]
    public async Task A_token_not_yet_valid_is_refused_and_not_remembered_until_its_nbf()
    {
        var policy = Policy(skew: 0);
        var token = Token(exp: 600, nbf: 60);

        var early = await policy.AuthenticateAsync(token, default);
        Assert.Equal(AuthOutcome.Invalid, early.Outcome);
        Assert.Equal("The token is not valid yet.", early.Description);
        Assert.Equal(0, policy.Cache!.Count);

        _clock.Advance(TimeSpan.FromSeconds(60));
        var onTime = await policy.AuthenticateAsync(token, default);
        Assert.Equal(AuthOutcome.Success, onTime.Outcome);
        Assert.Same(onTime, await policy.AuthenticateAsync(token, default));
    }

    [Fact]
    public void An_entry_is_not_used_before_its_nbf_even_if_the_clock_goes_back()
    {
        var cache = new ValidatedTokenCache(10, TimeSpan.FromMinutes(5));
        var keys = SigningKeySet.Empty;
        var hash = TokenHash.Of("token");
        var attempt = AuthAttempt.Invalid("x", "placeholder");
        cache.Add(hash, new ValidatedTokenFacts("k1", KeyFamily.Rsa, Start, Start.AddMinutes(10)), keys, attempt, Start);

        Assert.True(cache.TryGet(hash, Start, out _));
        Assert.False(cache.TryGet(hash, Start.AddSeconds(-1), out _));
        Assert.False(cache.TryGet(TokenHash.Of("token2"), Start, out _));
    }

    [Fact]
    public async Task The_same_token_under_a_policy_with_other_audiences_is_not_a_hit()
    {
        var api = Policy(audience: "api");
        var other = Policy(audience: "other");
        var token = Token(exp: 600);

        Assert.Equal(AuthOutcome.Success, (await api.AuthenticateAsync(token, default)).Outcome);
        var refused = await other.AuthenticateAsync(token, default);

        Assert.Equal(AuthOutcome.Invalid, refused.Outcome);
        Assert.Equal("The token's audience is not accepted.", refused.Description);
    }

    [Fact]
    public async Task A_key_removed_from_the_JWKS_stops_being_trusted_at_the_refresh_that_removes_it()
    {
        _idp.Keys = [_k1, _k2];
        var policy = Policy(remote: true, keyRefresh: 60);
        var token = Token(exp: 3600);
        var other = Token(exp: 3600, key: _k2);
        var first = await policy.AuthenticateAsync(token, default);
        Assert.Same(first, await policy.AuthenticateAsync(token, default));
        Assert.Equal(AuthOutcome.Success, (await policy.AuthenticateAsync(other, default)).Outcome);
        Assert.Equal(2, policy.Cache!.Count);

        _idp.Keys = [_k2];
        _clock.Advance(TimeSpan.FromSeconds(60));
        // This request starts the background refresh and is still served by the keys held (the documented bound).
        Assert.Same(first, await policy.AuthenticateAsync(token, default));
        await policy.PendingKeyRefresh!;

        var refused = await policy.AuthenticateAsync(token, default);
        Assert.Equal(AuthOutcome.Invalid, refused.Outcome);
        Assert.Equal("The token's signing key is not known.", refused.Description);
        Assert.Equal(AuthOutcome.Success, (await policy.AuthenticateAsync(other, default)).Outcome);
        Assert.Equal(1, policy.Cache.Count);
    }

    [Fact]
    public async Task A_refresh_that_fetches_the_same_keys_keeps_the_validated_tokens()
    {
        _idp.Keys = [_k1, _k2];
        var policy = Policy(remote: true, keyRefresh: 60);
        var token = Token(exp: 3600);
        var first = await policy.AuthenticateAsync(token, default);
        Assert.Equal(AuthOutcome.Success, first.Outcome);

        _clock.Advance(TimeSpan.FromSeconds(60));
        Assert.Same(first, await policy.AuthenticateAsync(token, default));
        await policy.PendingKeyRefresh!;

        // The JWKS was fetched again (new documents, new key objects) but says the same: no signature check again.
        Assert.Equal(2, _idp.Fetches);
        Assert.Same(first, await policy.AuthenticateAsync(token, default));
        Assert.Equal(1, policy.Cache!.Count);
    }

    [Fact]
    public async Task A_key_replaced_under_the_same_kid_drops_the_validated_tokens()
    {
        using var impostor = TestSigningKey.Rsa("k1");
        _idp.Keys = [_k1];
        var policy = Policy(remote: true, keyRefresh: 60);
        var token = Token(exp: 3600);
        Assert.Equal(AuthOutcome.Success, (await policy.AuthenticateAsync(token, default)).Outcome);

        _idp.Keys = [impostor];
        _clock.Advance(TimeSpan.FromSeconds(60));
        await policy.AuthenticateAsync(token, default);
        await policy.PendingKeyRefresh!;

        var refused = await policy.AuthenticateAsync(token, default);
        Assert.Equal(AuthOutcome.Invalid, refused.Outcome);
        Assert.Equal(0, policy.Cache!.Count);
    }

    [Fact]
    public async Task The_cache_holds_at_most_TokenCacheSize_tokens()
    {
        var policy = Policy(cacheSize: 3);
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(AuthOutcome.Success, (await policy.AuthenticateAsync(Token(exp: 600, sub: "u" + i), default)).Outcome);
            Assert.InRange(policy.Cache!.Count, 1, 3);
        }
    }

    [Fact]
    public async Task TokenCacheSeconds_zero_turns_the_cache_off()
    {
        var policy = Policy(cacheSeconds: 0);
        var token = Token(exp: 600);

        var first = await policy.AuthenticateAsync(token, default);
        var second = await policy.AuthenticateAsync(token, default);

        Assert.Null(policy.Cache);
        Assert.Equal(AuthOutcome.Success, second.Outcome);
        Assert.NotSame(first, second);
    }
}
