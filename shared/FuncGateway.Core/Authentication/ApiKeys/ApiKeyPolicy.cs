using FuncGateway.Model;
using System.Runtime.CompilerServices;
using System.Security.Claims;
using Microsoft.AspNetCore.Http;

namespace FuncGateway.Authentication.ApiKeys;

/// <summary>
/// API keys from a header (default <c>X-API-Key</c>) or, where a route opts in, a query parameter. A key is hashed
/// and looked up in the ApiKeys table through <see cref="ApiKeyCache"/>; it must be enabled and not expired. The
/// key is never forwarded, logged or echoed. The caller made from a record is kept with the record (as long as the
/// cache holds that record, so a revocation is still seen within <c>CacheSeconds</c>); expiry is checked on every request.
/// </summary>
internal sealed class ApiKeyPolicy(ApiKeyPolicySettings settings, ApiKeyCache cache, TimeProvider time) : IAuthPolicy
{
    private readonly ConditionalWeakTable<ApiKeyRecord, AuthAttempt> _callers = [];

    public string Name => settings.Name;

    public AuthPolicyType Type => AuthPolicyType.ApiKey;

    public string Header => settings.Header;

    public CredentialLookup FindCredential(HttpRequest request, RouteAuth route)
    {
        var fromHeader = CredentialLookup.None;
        var values = request.Headers[settings.Header];
        if (values.Count > 1)
        {
            return CredentialLookup.Bad($"The request carries more than one {settings.Header} header.");
        }

        if (values.Count == 1)
        {
            if (string.IsNullOrWhiteSpace(values[0]))
            {
                return CredentialLookup.Bad($"The {settings.Header} header is empty.");
            }

            fromHeader = CredentialLookup.Found(CredentialSource.Header, values[0]!.Trim());
        }

        if (route.ApiKeyQueryParameter is { } parameter && request.Query.TryGetValue(parameter, out var query))
        {
            if (query.Count != 1 || string.IsNullOrEmpty(query[0]) || fromHeader.Source != CredentialSource.None)
            {
                return CredentialLookup.Bad("Send one API key, in the header or the query, not both.");
            }

            return CredentialLookup.Found(CredentialSource.Query, query[0]!);
        }

        return fromHeader;
    }

    public async ValueTask<AuthAttempt> AuthenticateAsync(string credential, CancellationToken cancellationToken)
    {
        if (!ApiKeyFormat.IsWellFormed(credential))
        {
            return Invalid("The API key is not valid.");
        }

        var (status, record) = await cache.LookupAsync(ApiKeyFormat.Hash(credential), cancellationToken);
        switch (status)
        {
            case ApiKeyLookupStatus.Unavailable:
                return AuthAttempt.Unavailable("API keys cannot be checked right now.");
            case ApiKeyLookupStatus.NotFound:
                return Invalid("The API key is not valid.");
        }

        if (!record!.Enabled)
        {
            return Invalid("The API key has been revoked.");
        }

        if (record.ExpiresAt is { } expires && expires <= time.GetUtcNow())
        {
            return Invalid("The API key has expired.");
        }

        if (!_callers.TryGetValue(record, out var caller))
        {
            caller = CreateCaller(record);
            _callers.AddOrUpdate(record, caller);
        }

        return caller;
    }

    public string Challenge(string? error = null, string? description = null) => $"ApiKey header=\"{settings.Header}\"";

    private AuthAttempt CreateCaller(ApiKeyRecord record)
    {
        var claims = new List<Claim>(4 + record.Scopes.Count)
        {
            new("consumer_id", record.ConsumerId),
            new("key_id", record.KeyId),
        };
        if (record.Tier is not null)
        {
            claims.Add(new Claim("tier", record.Tier));
        }

        foreach (var scope in record.Scopes)
        {
            claims.Add(new Claim("scope", scope));
        }

        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, "ApiKey", "consumer_id", "role"));
        return AuthAttempt.Success(new GatewayIdentity(Name, UserId: null, record.ConsumerId, record.Tier, principal)
        {
            KeyId = record.KeyId,
            Scopes = record.Scopes,
        });
    }

    private static AuthAttempt Invalid(string description) => AuthAttempt.Invalid(AuthProblemCodes.InvalidApiKey, description);
}
