using FuncGateway.Authentication.Jwt;
using FuncGateway.Testing;
using Microsoft.IdentityModel.Tokens;

namespace FuncGateway.Core.Tests.Authentication;

/// <summary>An issuer whose published keys the test sets, counting fetches; <see cref="Down"/> makes fetches fail.</summary>
internal sealed class FakeKeySetRetriever : IKeySetRetriever
{
    private int _fetches;

    public TestSigningKey[] Keys { get; set; } = [];

    public bool Down { get; set; }

    public int Fetches => Volatile.Read(ref _fetches);

    public async Task<SigningKeySet> GetAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _fetches);
        await Task.Yield();
        if (Down)
        {
            throw new HttpRequestException("down");
        }

        return SigningKeySet.FromJsonWebKeys(new JsonWebKeySet(TestSigningKey.Jwks(Keys)).Keys, "corp", requireOne: false);
    }
}
