using System.Globalization;
using FuncGateway.Diagnostics;
using FuncGateway.Model;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;

namespace FuncGateway.Authentication;

/// <summary>The outcome of authentication for one request, for the request transforms that follow.</summary>
/// <remarks>The caller itself is <see cref="GatewayRequestFeature.Identity"/>.</remarks>
internal sealed class AuthenticationFeature(RouteAuth route, CredentialSource source) : ISubrequestFeature
{
    public RouteAuth Route { get; } = route;

    /// <summary>Where the accepted credential came from (none on an anonymous route).</summary>
    public CredentialSource Source { get; } = source;
}

/// <summary>
/// Authenticates the caller with the route's policies (any one may accept) and checks the route's authorization.
/// Anonymous routes pass untouched. Failures answer problem+json: 401 with one <c>WWW-Authenticate</c> challenge
/// per policy, 400 for ambiguous credentials, 403 for missing roles/scopes/claims, 429 when the failure throttle says
/// so, 503 when keys cannot be obtained. Presented-but-refused credentials are counted by the failure throttle.
/// </summary>
internal sealed class AuthenticationStep(IEnumerable<IAuthenticationFailureThrottle> throttles, ILogger<AuthenticationStep> logger, GatewayTelemetry telemetry) : IGatewayStep
{
    private const string Success = "success";
    private const string Anonymous = "anonymous";

    private readonly IAuthenticationFailureThrottle _throttle = AuthenticationFailureThrottles.Combine(throttles);

    public GatewayStepOrder Order => GatewayStepOrder.Authentication;

    public string ActivityName => GatewayTelemetry.AuthenticationActivityName;

    public async ValueTask<bool> InvokeAsync(HttpContext context, GatewayRequestFeature feature)
    {
        var route = feature.Route.GetFeature<RouteAuth>();
        if (route is null)
        {
            // Every route of a gateway snapshot has one; a route without it is never let through.
            await GatewayProblem.WriteAsync(context, StatusCodes.Status500InternalServerError, ProblemCodes.InternalError, "The route has no authentication settings.");
            return false;
        }

        if (route.IsAnonymous)
        {
            Record(feature, Anonymous, Anonymous);
            context.Features.Set(new AuthenticationFeature(route, CredentialSource.None));
            return true;
        }

        var routeId = feature.Route.Definition.Id;
        var cancellationToken = context.RequestAborted;
        var decision = await _throttle.CheckAsync(feature.ClientAddress, cancellationToken);
        if (decision.Wait is { } wait)
        {
            var seconds = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
            AuthLog.Throttled(logger, routeId, seconds);
            Record(feature, route.PolicyNames, AuthProblemCodes.AuthThrottled);
            await GatewayProblem.WriteAsync(context, StatusCodes.Status429TooManyRequests, AuthProblemCodes.AuthThrottled,
                "Too many failed authentication attempts.", "Wait before trying again.",
                new("Retry-After", seconds.ToString(CultureInfo.InvariantCulture)));
            return false;
        }

        // The attempt keeps its place among the client's attempts being checked until its failure (if any) is counted.
        try
        {
            return await AuthenticateAsync(context, feature, route, routeId, cancellationToken);
        }
        finally
        {
            decision.Attempt?.End();
        }
    }

    private async ValueTask<bool> AuthenticateAsync(HttpContext context, GatewayRequestFeature feature, RouteAuth route, string routeId, CancellationToken cancellationToken)
    {
        AuthAttempt? failure = null;
        IAuthPolicy? failedPolicy = null;
        List<(string Credential, IAuthPolicy Policy, string Code)>? refused = null;
        AuthAttempt? unavailable = null;
        foreach (var policy in route.Policies)
        {
            var lookup = policy.FindCredential(context.Request, route);
            if (lookup.Malformed is { } malformed)
            {
                AuthLog.AuthenticationFailed(logger, routeId, policy.Name, AuthProblemCodes.InvalidRequest, malformed);
                Record(feature, policy.Name, AuthProblemCodes.InvalidRequest);
                await _throttle.RecordFailureAsync(feature.ClientAddress, cancellationToken);
                await WriteAsync(context, route, StatusCodes.Status400BadRequest, AuthProblemCodes.InvalidRequest,
                    "The request's credentials are ambiguous or empty.", malformed, policy, "invalid_request");
                return false;
            }

            if (lookup.Source == CredentialSource.None)
            {
                continue;
            }

            var attempt = await policy.AuthenticateAsync(lookup.Credential!, cancellationToken);
            switch (attempt.Outcome)
            {
                case AuthOutcome.Success:
                    var authorization = route.Authorization?.Check(attempt.Caller!);
                    if (authorization is not null)
                    {
                        AuthLog.AuthorizationDenied(logger, routeId, policy.Name, authorization);
                        Record(feature, policy.Name, AuthProblemCodes.Forbidden);
                        await WriteForbiddenAsync(context, route, policy);
                        return false;
                    }

                    // A credential refused by an earlier policy still counts as a failed attempt when another
                    // credential is accepted: else a client holding one valid credential could guess another (a
                    // Basic password beside its own API key) without limit, the outcome shown by whose identity
                    // reaches the upstream. The same credential accepted by a later policy (a token of the second
                    // of two issuers) was no failed attempt.
                    if (refused is not null && OtherRefused(refused, lookup.Credential!) is { } other)
                    {
                        AuthLog.RefusedBesideAccepted(logger, routeId, other.Policy.Name, other.Code, policy.Name);
                        await _throttle.RecordFailureAsync(feature.ClientAddress, cancellationToken);
                    }

                    var caller = attempt.Caller!;
                    Record(feature, policy.Name, Success);
                    feature.Identity = caller;
                    context.User = caller.Principal;
                    context.Features.Set(new AuthenticationFeature(route, lookup.Source));
                    return true;
                case AuthOutcome.Unavailable:
                    unavailable ??= attempt;
                    break;
                default:
                    (refused ??= []).Add((lookup.Credential!, policy, attempt.Code!));
                    if (failure is null)
                    {
                        failure = attempt;
                        failedPolicy = policy;
                    }

                    break;
            }
        }

        if (failure is not null)
        {
            AuthLog.AuthenticationFailed(logger, routeId, failedPolicy!.Name, failure.Code!, failure.Description!);
            Record(feature, failedPolicy.Name, failure.Code!);
            await _throttle.RecordFailureAsync(feature.ClientAddress, cancellationToken);
            await WriteAsync(context, route, StatusCodes.Status401Unauthorized, failure.Code!, "The credentials were not accepted.",
                failure.Description, failedPolicy, "invalid_token");
            return false;
        }

        if (unavailable is not null)
        {
            AuthLog.AuthenticationUnavailable(logger, routeId, unavailable.Description!);
            Record(feature, route.PolicyNames, AuthProblemCodes.AuthUnavailable);
            await GatewayProblem.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, AuthProblemCodes.AuthUnavailable,
                "Credentials cannot be checked right now.", unavailable.Description, new("Retry-After", "5"));
            return false;
        }

        AuthLog.NoCredentials(logger, routeId, route.PolicyNames);
        Record(feature, route.PolicyNames, AuthProblemCodes.Unauthenticated);
        await WriteAsync(context, route, StatusCodes.Status401Unauthorized, AuthProblemCodes.Unauthenticated,
            "Authentication is required.", null, null, null);
        return false;
    }

    /// <summary>The first refused credential that is not <paramref name="accepted"/>, if any.</summary>
    private static (string Credential, IAuthPolicy Policy, string Code)? OtherRefused(List<(string Credential, IAuthPolicy Policy, string Code)> refused, string accepted)
    {
        foreach (var entry in refused)
        {
            if (!string.Equals(entry.Credential, accepted, StringComparison.Ordinal))
            {
                return entry;
            }
        }

        return null;
    }

    /// <summary>
    /// Keeps the outcome for the request span and the access log, and counts it by policy (a configured name, or the
    /// route's list of them when no single policy decided: bounded by the configuration).
    /// </summary>
    private void Record(GatewayRequestFeature feature, string policy, string outcome)
    {
        feature.AuthPolicy = policy;
        feature.AuthOutcome = outcome;
        GatewayTelemetry.TagCurrent(GatewayTelemetry.PolicyTag, policy);
        GatewayTelemetry.TagCurrent(GatewayTelemetry.DecisionTag, outcome);
        var counter = telemetry.AuthOutcomes;
        if (counter.Enabled)
        {
            counter.Add(1, new KeyValuePair<string, object?>(GatewayTelemetry.PolicyTag, policy), new KeyValuePair<string, object?>(GatewayTelemetry.OutcomeTag, outcome));
        }
    }

    /// <summary>A 401/400 with one challenge per policy; the failing policy's carries the error (RFC 6750 for Bearer).</summary>
    private static Task WriteAsync(HttpContext context, RouteAuth route, int status, string code, string title, string? detail, IAuthPolicy? failed, string? bearerError)
    {
        var challenges = new string[route.Policies.Length];
        for (var i = 0; i < challenges.Length; i++)
        {
            var policy = route.Policies[i];
            challenges[i] = ReferenceEquals(policy, failed) && policy.Type == AuthPolicyType.Jwt
                ? policy.Challenge(bearerError, detail)
                : policy.Challenge();
        }

        return WriteWithChallengesAsync(context, status, code, title, detail, challenges);
    }

    private static Task WriteForbiddenAsync(HttpContext context, RouteAuth route, IAuthPolicy policy)
    {
        string[] challenges = [];
        if (policy.Type == AuthPolicyType.Jwt)
        {
            var scopes = route.Authorization!.RequiredScopes;
            var challenge = scopes.Count > 0
                ? $"Bearer error=\"insufficient_scope\", scope=\"{string.Join(' ', scopes).Replace("\"", "", StringComparison.Ordinal).Replace("\\", "", StringComparison.Ordinal)}\""
                : "Bearer error=\"insufficient_scope\"";
            challenges = [challenge];
        }

        return WriteWithChallengesAsync(context, StatusCodes.Status403Forbidden, AuthProblemCodes.Forbidden,
            "The caller may not use this route.", "A required role, scope or claim is missing.", challenges);
    }

    private static Task WriteWithChallengesAsync(HttpContext context, int status, string code, string title, string? detail, string[] challenges)
    {
        if (challenges.Length > 1)
        {
            // The problem writer sets one header; the others are added as the response starts (after its Clear()).
            context.Response.OnStarting(static state =>
            {
                var (ctx, values) = ((HttpContext, string[]))state;
                ctx.Response.Headers.WWWAuthenticate = new StringValues(values);
                return Task.CompletedTask;
            }, (context, challenges));
        }

        return challenges.Length == 0
            ? GatewayProblem.WriteAsync(context, status, code, title, detail)
            : GatewayProblem.WriteAsync(context, status, code, title, detail, new("WWW-Authenticate", challenges[0]));
    }
}
