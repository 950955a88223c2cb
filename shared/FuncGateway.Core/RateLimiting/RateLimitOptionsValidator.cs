using FuncGateway.Model;
using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace FuncGateway.RateLimiting;

/// <summary>Checks <see cref="RateLimitOptions"/> at start-up and reports every problem at once, each with its key.</summary>
internal sealed partial class RateLimitOptionsValidator : IValidateOptions<RateLimitOptions>
{
    public const long MaxLimit = 1_000_000_000;
    public const double MaxWindowSeconds = 30 * 24 * 3600;
    public const int MaxShards = 64;
    public const int MaxInstanceEstimate = 1000;

    public ValidateOptionsResult Validate(string? name, RateLimitOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = Validate(options);
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    /// <summary>Every problem with the options, reader errors first.</summary>
    public static List<string> Validate(RateLimitOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>(options.ReadErrors);
        const string root = RateLimitOptions.SectionName;
        Range(errors, $"{root}:InstanceEstimate", options.InstanceEstimate, 1, MaxInstanceEstimate);
        Range(errors, $"{root}:MaxPartitionsPerPolicy", options.MaxPartitionsPerPolicy, 100, 10_000_000);
        Range(errors, $"{root}:OperationTimeoutSeconds", options.OperationTimeoutSeconds, 0.05, 60);
        Range(errors, $"{root}:OutageBackoffSeconds", options.OutageBackoffSeconds, 0.1, 600);
        Range(errors, $"{root}:IPv6PrefixLength", options.IPv6PrefixLength, 32, 128);
        Range(errors, $"{root}:MaintenanceIntervalSeconds", options.MaintenanceIntervalSeconds, 1, 86400);
        Range(errors, $"{root}:RetentionSeconds", options.RetentionSeconds, 0, 86400);

        if (options.KeyHashSecret is { } secret)
        {
            // Never quote the value: it is a secret (or the text of a reference, which says where the secret is).
            if (secret.StartsWith("@Microsoft.KeyVault(", StringComparison.OrdinalIgnoreCase))
            {
                errors.Add($"{root}:KeyHashSecret is still an unresolved Key Vault reference: the app cannot read the secret (check the app's identity and its access to the vault).");
            }
            else if (secret.Length < CounterKeyHasher.MinSecretLength)
            {
                errors.Add($"{root}:KeyHashSecret must be at least {CounterKeyHasher.MinSecretLength} characters (it has {secret.Length}); e.g. the output of 'openssl rand -base64 32'.");
            }
        }

        var auth = options.AuthenticationFailures;
        if (auth.Policy is { } authPolicy)
        {
            if (!options.Policies.ContainsKey(authPolicy))
            {
                errors.Add($"{root}:AuthenticationFailures:Policy names '{authPolicy}', which is not a policy under {root}:Policies.");
            }
        }
        else
        {
            Range(errors, $"{root}:AuthenticationFailures:Limit", auth.Limit, 1, MaxLimit);
            Range(errors, $"{root}:AuthenticationFailures:WindowSeconds", auth.WindowSeconds, 1, MaxWindowSeconds);
        }

        foreach (var (policyName, policy) in options.Policies.OrderBy(p => p.Key, StringComparer.OrdinalIgnoreCase))
        {
            var at = $"{root}:Policies:{policyName}";
            if (!ConfigurationNames.IsValid(policyName))
            {
                errors.Add(ConfigurationNames.Describe(at, "policy", policyName));
            }

            if (policy is null)
            {
                continue;
            }

            if (policy.Limit == 0)
            {
                if (!Reported(errors, $"{at}:Limit"))
                {
                    errors.Add($"{at}:Limit is required (permits per window, 1–{MaxLimit}).");
                }
            }
            else
            {
                Range(errors, $"{at}:Limit", policy.Limit, 1, MaxLimit);
            }

            Range(errors, $"{at}:WindowSeconds", policy.WindowSeconds, 1, MaxWindowSeconds);
            CheckBurst(errors, at, policy.Algorithm, policy.Burst);
            if (!PartitionKeySpec.TryParse(policy.PartitionBy, out _, out var partitionError))
            {
                errors.Add($"{at}:PartitionBy: {partitionError}");
            }

            if (policy.InstanceEstimate is { } estimate)
            {
                Range(errors, $"{at}:InstanceEstimate", estimate, 1, MaxInstanceEstimate);
            }

            Range(errors, $"{at}:Shards", policy.Shards, 0, MaxShards);
            if (policy.Shards > 0 && policy.Limit > 0 && policy.Shards > policy.Limit)
            {
                errors.Add($"{at}:Shards ({policy.Shards}) may not exceed Limit ({policy.Limit}): every shard needs at least one permit.");
            }

            Range(errors, $"{at}:LeaseSeconds", policy.LeaseSeconds, 0.1, 60);
            foreach (var (tierName, tier) in policy.Tiers.OrderBy(t => t.Key, StringComparer.OrdinalIgnoreCase))
            {
                var tierAt = $"{at}:Tiers:{tierName}";
                if (!ConfigurationNames.IsValid(tierName))
                {
                    errors.Add(ConfigurationNames.Describe(tierAt, "tier", tierName));
                }

                if (tier.Limit == 0)
                {
                    if (!Reported(errors, $"{tierAt}:Limit"))
                    {
                        errors.Add($"{tierAt}:Limit is required (permits per window, 1–{MaxLimit}).");
                    }
                }
                else
                {
                    Range(errors, $"{tierAt}:Limit", tier.Limit, 1, MaxLimit);
                }

                CheckBurst(errors, tierAt, policy.Algorithm, tier.Burst);
            }
        }

        return errors;
    }

    /// <summary>Whether the reader already complained about this key (a value that is not a number is not also "missing").</summary>
    private static bool Reported(List<string> errors, string key) => errors.Exists(e => e.StartsWith(key + " ", StringComparison.OrdinalIgnoreCase));

    private static void CheckBurst(List<string> errors, string at, RateLimitAlgorithm algorithm, long? burst)
    {
        if (burst is not { } value)
        {
            return;
        }

        if (algorithm != RateLimitAlgorithm.TokenBucket)
        {
            errors.Add($"{at}:Burst applies to the TokenBucket algorithm only (this policy is {algorithm}).");
            return;
        }

        Range(errors, $"{at}:Burst", value, 1, MaxLimit);
    }

    private static void Range(List<string> errors, string key, double value, double min, double max)
    {
        if (value < min || value > max || double.IsNaN(value))
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"{key} must be between {min} and {max} (got {value})."));
        }
    }
}

/// <summary>
/// Checks at start-up that counter rows can be keyed: either <c>KeyHashSecret</c> is set, or the storage connection
/// string has an account key to derive it from. Only when counters are in use (a policy, or the failed-authentication
/// throttle).
/// </summary>
internal sealed class RateLimitKeyHashValidator(IOptions<GatewayOptions> gateway, IConfiguration configuration) : IValidateOptions<RateLimitOptions>
{
    public ValidateOptionsResult Validate(string? name, RateLimitOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var used = options.Policies.Count > 0 || options.AuthenticationFailures.Enabled;
        if (!used || options.KeyHashSecret is not null
            || CounterKeyHasher.Create(null, gateway.Value.Storage, configuration["AzureWebJobsStorage"]) is not null)
        {
            return ValidateOptionsResult.Success;
        }

        return ValidateOptionsResult.Fail(MissingSecretMessage);
    }

    public const string MissingSecretMessage =
        $"{RateLimitOptions.SectionName}:KeyHashSecret is required: rate-limit counter rows are keyed by an HMAC of the client address or user id "
        + "under this secret, and storage is reached without an account key to derive it from (a managed identity or a SAS). "
        + "Set it to at least 32 random characters (e.g. 'openssl rand -base64 32'), the same on every instance; in Azure as a Key Vault reference.";
}
