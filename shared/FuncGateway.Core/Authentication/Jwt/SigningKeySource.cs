using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace FuncGateway.Authentication.Jwt;

/// <summary>Fetches an issuer's current key set; throws when it cannot.</summary>
internal interface IKeySetRetriever
{
    Task<SigningKeySet> GetAsync(CancellationToken cancellationToken);
}

/// <summary>
/// Fetches keys with IdentityModel's retrievers: an OIDC discovery document (<see cref="OpenIdConnectConfigurationRetriever"/>,
/// whose <c>issuer</c> must equal the policy's) and its <c>jwks_uri</c>, or a JWKS URL directly.
/// </summary>
internal sealed class HttpKeySetRetriever(JwtPolicySettings settings, HttpClient httpClient) : IKeySetRetriever
{
    private readonly HttpDocumentRetriever _documents = new(httpClient) { RequireHttps = settings.RequireHttpsMetadata };

    public async Task<SigningKeySet> GetAsync(CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(settings.MetadataTimeout);
        IEnumerable<JsonWebKey> keys;
        if (settings.MetadataAddress is { } address)
        {
            var configuration = await OpenIdConnectConfigurationRetriever.GetAsync(address, _documents, timeout.Token);
            if (!string.Equals(configuration.Issuer, settings.Issuer, StringComparison.Ordinal))
            {
                throw new InvalidOperationException("The discovery document's issuer differs from the policy's Issuer.");
            }

            keys = configuration.JsonWebKeySet?.Keys ?? throw new InvalidOperationException("The discovery document gave no key set.");
        }
        else
        {
            var json = await _documents.GetDocumentAsync(settings.JwksUri!, timeout.Token);
            keys = new JsonWebKeySet(json).Keys;
        }

        // A key set the IdP serves is its word even when no key in it is usable ({"keys":[]}, or only keys of kinds
        // the gateway refuses): what it published before is withdrawn. Only an IdP that cannot be reached, or answers
        // with something that is no key set, leaves the keys already held in use.
        return SigningKeySet.FromJsonWebKeys(keys, settings.Name, requireOne: false);
    }
}

/// <summary>
/// The keys one JWT policy trusts: configured keys (always) plus the issuer's published keys, cached. Instead of
/// IdentityModel's <c>ConfigurationManager</c> (whose automatic refresh cannot be set below 5 minutes, runs in the
/// background even when a token names a key it has not seen, and reads the clock without a public TimeProvider), it
/// keeps these documented bounds, all on the injected <see cref="TimeProvider"/>:
/// <list type="bullet">
/// <item>Published keys older than <c>KeyRefreshSeconds</c> are re-fetched in the background by the next request, so a
/// key removed from the JWKS stops being trusted within <c>KeyRefreshSeconds</c> plus one fetch.</item>
/// <item>A token whose <c>kid</c> is unknown waits for a fetch, but only if none was attempted during the last
/// <c>UnknownKeyRefreshSeconds</c>; concurrent requests share one fetch. A flood of random <c>kid</c>s therefore costs
/// at most one fetch per interval.</item>
/// <item>A failed fetch keeps the keys already held, however old (an IdP outage does not lock users out). A key set
/// the IdP serves with no usable key in it is no failure: it withdraws the keys held (logged, event 4013).</item>
/// </list>
/// </summary>
internal sealed class SigningKeySource
{
    private readonly JwtPolicySettings _settings;
    private readonly IKeySetRetriever? _remote;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SigningKeySet _static;
    private readonly Lock _gate = new();
    private State _state;
    private Task? _refresh;

    public SigningKeySource(JwtPolicySettings settings, IKeySetRetriever? remote, TimeProvider time, ILogger logger)
    {
        _settings = settings;
        _remote = remote;
        _time = time;
        _logger = logger;
        var configured = SigningKeySet.FromSymmetric(settings.SymmetricKeys);
        if (settings.Jwks is { } jwks)
        {
            configured = configured.Concat(SigningKeySet.FromJwks(jwks, settings.Name));
        }

        _static = configured;
        _state = new State(configured, HasRemoteKeys: false, FetchedAt: DateTimeOffset.MinValue, LastAttempt: DateTimeOffset.MinValue);
    }

    /// <summary>The refresh in progress, if any (tests await it).</summary>
    internal Task? PendingRefresh => _refresh;

    /// <summary>
    /// The keys to verify a token with <paramref name="kid"/> against; null when no published keys were ever
    /// obtained and no configured key can serve (the caller answers 503).
    /// </summary>
    public async ValueTask<SigningKeySet?> GetAsync(string? kid, KeyFamily family, CancellationToken cancellationToken)
    {
        if (_remote is null || family == KeyFamily.Hmac)
        {
            return _static;
        }

        var state = Volatile.Read(ref _state);
        var now = _time.GetUtcNow();
        if (!state.HasRemoteKeys)
        {
            await RefreshIfAllowedAsync(state, now, "first use", cancellationToken);
            state = Volatile.Read(ref _state);
            return state.HasRemoteKeys || _static.Count > 0 ? state.Keys : null;
        }

        if (now - state.FetchedAt >= _settings.KeyRefreshInterval && now - state.LastAttempt >= Min(_settings.KeyRefreshInterval, _settings.UnknownKeyRefreshInterval))
        {
            // Stale: refresh in the background; this request still uses the keys held.
            _ = StartRefresh(state, "scheduled");
        }

        if (kid is not null && !state.Keys.Contains(kid, family))
        {
            await RefreshIfAllowedAsync(state, now, "unknown key id", cancellationToken);
            return Volatile.Read(ref _state).Keys;
        }

        return state.Keys;
    }

    private async Task RefreshIfAllowedAsync(State state, DateTimeOffset now, string trigger, CancellationToken cancellationToken)
    {
        Task? refresh;
        lock (_gate)
        {
            refresh = _refresh is { IsCompleted: false } running
                ? running
                : now - _state.LastAttempt >= _settings.UnknownKeyRefreshInterval || _state.LastAttempt == DateTimeOffset.MinValue
                    ? StartRefreshLocked(trigger)
                    : null;
        }

        if (refresh is null)
        {
            AuthLog.UnknownKeyRefreshThrottled(_logger, _settings.Name, (_settings.UnknownKeyRefreshInterval - (now - state.LastAttempt)).TotalSeconds);
            return;
        }

        await refresh.WaitAsync(cancellationToken);
    }

    private Task StartRefresh(State seen, string trigger)
    {
        lock (_gate)
        {
            // Another request may have started one since this one looked.
            return _refresh is { IsCompleted: false } running || !ReferenceEquals(seen, _state) ? _refresh ?? Task.CompletedTask : StartRefreshLocked(trigger);
        }
    }

    private Task StartRefreshLocked(string trigger)
    {
        var state = _state;
        _state = state with { LastAttempt = _time.GetUtcNow() };
        return _refresh = Task.Run(() => FetchAsync(trigger));
    }

    private async Task FetchAsync(string trigger)
    {
        try
        {
            var remote = await _remote!.GetAsync(CancellationToken.None);
            bool withdrawn;
            lock (_gate)
            {
                // An empty set withdraws the keys held (tokens signed with them get 401) but is no first load: with
                // none ever held, requests keep getting 503 until the IdP publishes a usable key.
                withdrawn = remote.Count == 0 && _state.HasRemoteKeys;
                // Unchanged keys keep their set (and the policy's validated tokens with it); any change makes a new one.
                var keys = _static.Concat(remote);
                if (keys.SameKeysAs(_state.Keys))
                {
                    keys = _state.Keys;
                }

                _state = _state with { Keys = keys, HasRemoteKeys = remote.Count > 0 || _state.HasRemoteKeys, FetchedAt = _time.GetUtcNow() };
            }

            if (remote.Count == 0)
            {
                AuthLog.NoUsableKeys(_logger, _settings.Name, withdrawn ? "the keys held before are withdrawn" : "no keys loaded yet", trigger);
            }
            else
            {
                AuthLog.KeysLoaded(_logger, _settings.Name, remote.Count, trigger);
            }
        }
#pragma warning disable CA1031 // Any failure of the IdP (or of its documents) keeps the keys already held.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            // The type only: IdentityModel's messages can quote documents and addresses.
            AuthLog.KeyFetchFailed(_logger, _settings.Name, ex.GetType().Name,
                Volatile.Read(ref _state).HasRemoteKeys ? "keeping the keys already loaded" : "no keys loaded yet");
        }
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    private sealed record State(SigningKeySet Keys, bool HasRemoteKeys, DateTimeOffset FetchedAt, DateTimeOffset LastAttempt);
}
