using FuncGateway.Model;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using FuncGateway.Authentication.Jwt;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Logging;

namespace FuncGateway.Authentication.Basic;

/// <summary>
/// HTTP Basic for legacy callers, against PBKDF2 hashes in configuration. A PBKDF2 check costs tens to hundreds of
/// milliseconds of CPU by design, so: checks run at most one per core at a time; a verdict is remembered for
/// <c>CacheSeconds</c> (wrong ones for 10 s) under an HMAC of user and password keyed with a per-process random
/// key (never the password itself); and an unknown user costs the same as a known one, so timing does not tell
/// which users exist. Credentials are never forwarded.
/// </summary>
internal sealed class BasicPolicy : IAuthPolicy, IDisposable
{
    private static readonly TimeSpan NegativeCacheDuration = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan SaturationTimeout = TimeSpan.FromSeconds(5);

    private readonly BasicPolicySettings _settings;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly byte[] _cacheKey = RandomNumberGenerator.GetBytes(32);
    private readonly MemoryCache _verdicts = new(new MemoryCacheOptions { SizeLimit = 10_000 });
    private readonly SemaphoreSlim _hashing = new(Environment.ProcessorCount);
    private readonly PasswordHash _decoy;

    public BasicPolicy(BasicPolicySettings settings, TimeProvider time, ILogger logger)
    {
        _settings = settings;
        _time = time;
        _logger = logger;
        _decoy = PasswordHash.Create(Convert.ToBase64String(RandomNumberGenerator.GetBytes(16)),
            settings.Users.Count > 0 ? settings.Users.Values.Max(static h => h.Iterations) : PasswordHash.DefaultIterations);
    }

    public string Name => _settings.Name;

    public AuthPolicyType Type => AuthPolicyType.Basic;

    public CredentialLookup FindCredential(HttpRequest request, RouteAuth route)
    {
        var authorization = request.Headers.Authorization;
        if (authorization.Count > 1)
        {
            return CredentialLookup.Bad("The request carries more than one Authorization header.");
        }

        return authorization.Count == 1 && AuthorizationHeader.TryGetCredential(authorization[0], "Basic", out var credential)
            ? CredentialLookup.Found(CredentialSource.AuthorizationHeader, credential)
            : CredentialLookup.None;
    }

    public async ValueTask<AuthAttempt> AuthenticateAsync(string credential, CancellationToken cancellationToken)
    {
        string user, password;
        try
        {
            var decoded = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(Convert.FromBase64String(credential));
            var colon = decoded.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                return Invalid("The Basic credentials are malformed.");
            }

            user = decoded[..colon];
            password = decoded[(colon + 1)..];
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException)
        {
            return Invalid("The Basic credentials are malformed.");
        }

        var fingerprint = Fingerprint(user, password);
        var now = _time.GetUtcNow();
        if (_verdicts.TryGetValue(fingerprint, out Verdict? verdict) && now < verdict!.Until)
        {
            return verdict.Caller ?? Invalid("The user name or password is wrong.");
        }

        if (!await _hashing.WaitAsync(SaturationTimeout, cancellationToken))
        {
            AuthLog.BasicSaturated(_logger, Name);
            return AuthAttempt.Unavailable("Too many password checks are in progress.");
        }

        bool valid;
        try
        {
            if (_settings.Users.TryGetValue(user, out var hash))
            {
                valid = hash.Verify(password);
            }
            else
            {
                // An unknown user costs what a known one does, and always fails.
                _ = _decoy.Verify(password);
                valid = false;
            }
        }
        finally
        {
            _hashing.Release();
        }

        var caller = valid ? Success(user) : null;
        var duration = valid ? _settings.CacheDuration : NegativeCacheDuration;
        if (duration > TimeSpan.Zero)
        {
            _verdicts.Set(fingerprint, new Verdict(caller, _time.GetUtcNow() + duration),
                new MemoryCacheEntryOptions { Size = 1, AbsoluteExpirationRelativeToNow = duration });
        }

        return caller ?? Invalid("The user name or password is wrong.");
    }

    public string Challenge(string? error = null, string? description = null) => $"Basic realm=\"{_settings.Realm}\", charset=\"UTF-8\"";

    public void Dispose()
    {
        _verdicts.Dispose();
        _hashing.Dispose();
    }

    private AuthAttempt Success(string user)
    {
        var roles = _settings.Roles.TryGetValue(user, out var list) ? list : [];
        var claims = new List<Claim>(1 + roles.Count) { new("sub", user) };
        foreach (var role in roles)
        {
            claims.Add(new Claim("role", role));
        }

        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, "Basic", "sub", "role"));
        return AuthAttempt.Success(new GatewayIdentity(Name, UserId: user, ConsumerId: null, Tier: null, principal)
        {
            Roles = roles,
        });
    }

    private string Fingerprint(string user, string password) =>
        Convert.ToHexString(HMACSHA256.HashData(_cacheKey, Encoding.UTF8.GetBytes(user + "\n" + password)));

    private static AuthAttempt Invalid(string description) => AuthAttempt.Invalid(AuthProblemCodes.InvalidCredentials, description);

    /// <summary>A remembered check: the caller it accepted (null: refused), until when.</summary>
    private sealed record Verdict(AuthAttempt? Caller, DateTimeOffset Until);
}
