using System.Text.Json;
using FuncGateway.Configuration;
using FuncGateway.Diagnostics;
using FuncGateway.Model;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FuncGateway.Discovery;

/// <summary>
/// <c>PUT /_gateway/pools/{pool}/instances/{id}</c> with <c>{"url":"http://10.0.0.7:8080","weight":1,"leaseSeconds":30}</c>
/// registers or renews an instance of a pool whose <c>Discovery</c> source is <c>registration</c> (200 with the
/// registration); <c>DELETE</c> on the same path deregisters it (204, also when it was not registered). Both write
/// <c>{TablePrefix}Instances</c>, which every gateway instance reads every
/// <c>FuncGateway:Discovery:Registration:RefreshSeconds</c>.
/// </summary>
/// <remarks>
/// Besides the admin key, a registration key (<see cref="RegistrationKeys"/>) is accepted for <c>PUT</c> and
/// <c>DELETE</c> of the pools it lists.
/// </remarks>
internal sealed class RegistrationEndpoint(
    RegistrationTable table, GatewayRegistry registry, UpstreamAllowlist allowlist, IOptions<DiscoveryOptions> options, RegistrationKeys keys, TimeProvider time,
    ILogger<RegistrationEndpoint> logger)
    : IAdminEndpoint
{
    public const string InvalidRegistration = "invalid_registration";
    public const string UnknownPool = "unknown_pool";
    public const string RegistrationNotRecorded = "registration_not_recorded";
    public const string RegistrationLimit = "registration_limit";

    private const int MaxBodyBytes = 4096;

    public string Name => "pools";

    public string Method => HttpMethods.Put;

    public IReadOnlyList<string> Methods { get; } = [HttpMethods.Put, HttpMethods.Delete];

    public bool ServesSubpaths => true;

    public bool HasOwnKeys => keys.Any;

    /// <summary>Which credential an authorized registration came with, for the audit trail (a key's name, never its value).</summary>
    private string CredentialOf(HttpRequest request, string pool) =>
        request.Headers[AdminKeys.Header] is { Count: 1 } given && !string.IsNullOrEmpty(given[0]) && keys.NameOf(given[0]!, pool) is { } name
            ? $"registration key '{name}'"
            : "the admin key";

    public bool AllowsOwnKey(HttpRequest request, string key) =>
        (HttpMethods.IsPut(request.Method) || HttpMethods.IsDelete(request.Method))
        && TryParsePath(request.Path, out var pool, out _)
        && keys.Allows(key, pool);

    /// <summary>
    /// The pool and id of <c>/_gateway/pools/{pool}/instances/{id}</c>, unescaped, in the request's own case (pool
    /// names are case-sensitive). The one parse both the registration keys' check and the handler use.
    /// </summary>
    private static bool TryParsePath(PathString path, out string pool, out string id)
    {
        var segments = (path.Value ?? "").Trim('/').Split('/');
        if (segments.Length != 5 || !string.Equals(segments[3], "instances", StringComparison.OrdinalIgnoreCase))
        {
            (pool, id) = ("", "");
            return false;
        }

        pool = Uri.UnescapeDataString(segments[2]);
        id = Uri.UnescapeDataString(segments[4]);
        return true;
    }

    public async Task HandleAsync(HttpContext context)
    {
        if (!TryParsePath(context.Request.Path, out var pool, out var id))
        {
            await GatewayProblem.WriteAsync(context, StatusCodes.Status404NotFound, ProblemCodes.AdminNotFound,
                "No such admin endpoint.", "Instances register at /_gateway/pools/{pool}/instances/{id} (PUT to register or renew, DELETE to deregister).");
            return;
        }

        if (!RegistrationTable.IsValidId(id))
        {
            await InvalidAsync(context, $"Instance id '{PrintableText.Of(id)}' is not 1–128 letters, digits, '-', '_', '.' or ':'.");
            return;
        }

        if (registry.Current is not { } snapshot)
        {
            // A starting instance that has not read the registry yet cannot tell an unknown pool from a known one:
            // "try again" rather than a 404 a registration client would take for a configuration error.
            await GatewayProblem.NoConfigurationAsync(context, registry.RetryAfter);
            return;
        }

        if (snapshot.Upstreams.GetValueOrDefault(pool)?.Discovery is not { Entry.Kind: RegistrationDiscoverySourceFactory.RegistrationKind })
        {
            await GatewayProblem.WriteAsync(context, StatusCodes.Status404NotFound, UnknownPool,
                "No pool takes registrations under this name.",
                $"Pool '{PrintableText.Of(pool)}' is not a valid pool with Discovery {{\"Source\":\"registration\"}} in the current snapshot.");
            return;
        }

        try
        {
            if (HttpMethods.IsDelete(context.Request.Method))
            {
                await table.DeleteAsync(pool, id, context.RequestAborted);
                DiscoveryLog.Deregistered(logger, pool, id, CredentialOf(context.Request, pool));
                context.Response.StatusCode = StatusCodes.Status204NoContent;
                return;
            }

            await RegisterAsync(context, pool, id, snapshot.Upstreams[pool]);
        }
        catch (DiscoveryLookupException ex)
        {
            await GatewayProblem.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, RegistrationNotRecorded,
                "The registration could not be written.", ex.Message);
        }
    }

    private async Task RegisterAsync(HttpContext context, string pool, string id, UpstreamPool compiled)
    {
        RegistrationBody? body;
        try
        {
            body = await JsonSerializer.DeserializeAsync<RegistrationBody>(new LimitedReadStream(context.Request.Body, MaxBodyBytes), RegistryJson.Options, context.RequestAborted);
        }
        catch (Exception ex) when (ex is JsonException or InvalidDataException)
        {
            await InvalidAsync(context, "The body is not a JSON object such as {\"url\":\"http://10.0.0.7:8080\",\"weight\":1,\"leaseSeconds\":30}.");
            return;
        }

        var settings = options.Value.Registration;
        var leaseSeconds = body?.LeaseSeconds ?? settings.DefaultLeaseSeconds;
        var weight = body?.Weight ?? 1;
        string? problem = null;
        var url = "";
        var urlError = "";
        if (body?.Url is null || !SnapshotBuilder.TryNormalizeUpstreamUrl(body.Url, out url, out urlError))
        {
            problem = body?.Url is null ? "\"url\" is required." : "url " + urlError;
        }
        else if (allowlist.Check(url) is { } refused)
        {
            problem = "url " + refused;
        }
        else if (weight is < 1 or > 1000)
        {
            problem = $"\"weight\" {weight} is outside 1–1000.";
        }
        else if (leaseSeconds < 5 || leaseSeconds > settings.MaxLeaseSeconds)
        {
            problem = $"\"leaseSeconds\" {leaseSeconds} is outside 5–{settings.MaxLeaseSeconds} (FuncGateway:Discovery:Registration:MaxLeaseSeconds).";
        }

        if (problem is not null)
        {
            await InvalidAsync(context, problem);
            return;
        }

        var now = time.GetUtcNow();
        var max = options.Value.MaxInstancesPerPool;

        // A renewal of an instance this gateway last read as live costs no read; a new id is counted against the pool's
        // live registrations, so a registration key cannot grow a pool (and every gateway's memory) without bound.
        if (compiled.GetFeature<PoolDiscovery>()?.Entry.Source is not RegistrationDiscoverySourceFactory.ILiveRegistrations known || !known.IsLive(id))
        {
            var others = await table.CountOtherLiveAsync(pool, id, now, context.RequestAborted);
            if (others >= max)
            {
                await GatewayProblem.WriteAsync(context, StatusCodes.Status409Conflict, RegistrationLimit,
                    "The pool has as many instances as it may have.",
                    $"Pool '{PrintableText.Of(pool)}' has {others} live registrations; FuncGateway:Discovery:MaxInstancesPerPool is {max}. Deregister an instance, or let a lease lapse, first.");
                return;
            }
        }

        var expires = now.AddSeconds(leaseSeconds);
        await table.UpsertAsync(pool, id, url, weight, expires, context.RequestAborted);
        DiscoveryLog.Registered(logger, pool, id, url, expires, CredentialOf(context.Request, pool));
        context.Response.ContentType = "application/json; charset=utf-8";
        context.Response.Headers.CacheControl = "no-store";
        await JsonSerializer.SerializeAsync(context.Response.Body, new { pool, id, url, weight, leaseSeconds, leaseExpiresAt = expires }, RegistryJson.Options, context.RequestAborted);
    }

    private static Task InvalidAsync(HttpContext context, string detail) =>
        GatewayProblem.WriteAsync(context, StatusCodes.Status400BadRequest, InvalidRegistration, "The registration is not valid.", detail);

    private sealed record RegistrationBody(string? Url, int? Weight, int? LeaseSeconds);
}
