using System.Globalization;
using FuncGateway.Model;
using Microsoft.Extensions.Configuration;


namespace FuncGateway.RateLimiting;

/// <summary>
/// Reads <c>FuncGateway:RateLimits</c> by hand rather than with the configuration binder, so that every problem
/// (an unknown key, a value that is not a number, an unknown algorithm) is collected with its full key instead of
/// the first one throwing. <see cref="RateLimitOptionsValidator"/> reports them together with the range checks.
/// </summary>
internal static class RateLimitOptionsReader
{
    private static readonly string[] RootKeys =
    [
        nameof(RateLimitOptions.InstanceEstimate), nameof(RateLimitOptions.MaxPartitionsPerPolicy), nameof(RateLimitOptions.OperationTimeoutSeconds),
        nameof(RateLimitOptions.OutageBackoffSeconds), nameof(RateLimitOptions.IPv6PrefixLength), nameof(RateLimitOptions.MaintenanceIntervalSeconds),
        nameof(RateLimitOptions.RetentionSeconds), nameof(RateLimitOptions.KeyHashSecret), nameof(RateLimitOptions.AuthenticationFailures),
        nameof(RateLimitOptions.Policies),
    ];

    private static readonly string[] PolicyKeys =
    [
        nameof(RateLimitPolicyOptions.Algorithm), nameof(RateLimitPolicyOptions.Limit), nameof(RateLimitPolicyOptions.WindowSeconds),
        nameof(RateLimitPolicyOptions.Burst), nameof(RateLimitPolicyOptions.PartitionBy), nameof(RateLimitPolicyOptions.MissingKey),
        nameof(RateLimitPolicyOptions.Mode), nameof(RateLimitPolicyOptions.FailurePolicy), nameof(RateLimitPolicyOptions.InstanceEstimate),
        nameof(RateLimitPolicyOptions.Shards), nameof(RateLimitPolicyOptions.LeaseSeconds), nameof(RateLimitPolicyOptions.Tiers),
    ];

    private static readonly string[] TierKeys = [nameof(RateLimitTierOptions.Limit), nameof(RateLimitTierOptions.Burst)];

    private static readonly string[] AuthenticationFailureKeys =
    [
        nameof(AuthenticationFailureOptions.Enabled), nameof(AuthenticationFailureOptions.Policy), nameof(AuthenticationFailureOptions.Limit),
        nameof(AuthenticationFailureOptions.WindowSeconds), nameof(AuthenticationFailureOptions.FailurePolicy),
    ];

    /// <summary>Fills <paramref name="options"/> from <paramref name="section"/>; problems go to <see cref="RateLimitOptions.ReadErrors"/>.</summary>
    public static void Read(IConfiguration section, RateLimitOptions options)
    {
        ArgumentNullException.ThrowIfNull(section);
        ArgumentNullException.ThrowIfNull(options);
        var errors = options.ReadErrors;
        var root = new SectionReader(section, RateLimitOptions.SectionName, errors);
        root.RejectUnknown(RootKeys);
        options.InstanceEstimate = root.Int32(nameof(RateLimitOptions.InstanceEstimate)) ?? options.InstanceEstimate;
        options.MaxPartitionsPerPolicy = root.Int32(nameof(RateLimitOptions.MaxPartitionsPerPolicy)) ?? options.MaxPartitionsPerPolicy;
        options.OperationTimeoutSeconds = root.Double(nameof(RateLimitOptions.OperationTimeoutSeconds)) ?? options.OperationTimeoutSeconds;
        options.OutageBackoffSeconds = root.Double(nameof(RateLimitOptions.OutageBackoffSeconds)) ?? options.OutageBackoffSeconds;
        options.IPv6PrefixLength = root.Int32(nameof(RateLimitOptions.IPv6PrefixLength)) ?? options.IPv6PrefixLength;
        options.MaintenanceIntervalSeconds = root.Double(nameof(RateLimitOptions.MaintenanceIntervalSeconds)) ?? options.MaintenanceIntervalSeconds;
        options.RetentionSeconds = root.Double(nameof(RateLimitOptions.RetentionSeconds)) ?? options.RetentionSeconds;
        options.KeyHashSecret = root.String(nameof(RateLimitOptions.KeyHashSecret)) ?? options.KeyHashSecret;

        var auth = root.Child(nameof(RateLimitOptions.AuthenticationFailures));
        auth.RejectUnknown(AuthenticationFailureKeys);
        var failures = options.AuthenticationFailures;
        failures.Enabled = auth.Boolean(nameof(AuthenticationFailureOptions.Enabled)) ?? failures.Enabled;
        failures.Policy = auth.String(nameof(AuthenticationFailureOptions.Policy)) ?? failures.Policy;
        failures.Limit = auth.Int64(nameof(AuthenticationFailureOptions.Limit)) ?? failures.Limit;
        failures.WindowSeconds = auth.Double(nameof(AuthenticationFailureOptions.WindowSeconds)) ?? failures.WindowSeconds;
        failures.FailurePolicy = auth.Enum<RateLimitFailurePolicy>(nameof(AuthenticationFailureOptions.FailurePolicy)) ?? failures.FailurePolicy;

        var policies = root.Child(nameof(RateLimitOptions.Policies));
        foreach (var policySection in policies.Section.GetChildren())
        {
            var policy = new SectionReader(policySection, policies.Path + ":" + policySection.Key, errors);
            policy.RejectUnknown(PolicyKeys);
            var value = new RateLimitPolicyOptions();
            value.Algorithm = policy.Enum<RateLimitAlgorithm>(nameof(RateLimitPolicyOptions.Algorithm)) ?? value.Algorithm;
            value.Limit = policy.Int64(nameof(RateLimitPolicyOptions.Limit)) ?? value.Limit;
            value.WindowSeconds = policy.Double(nameof(RateLimitPolicyOptions.WindowSeconds)) ?? value.WindowSeconds;
            value.Burst = policy.Int64(nameof(RateLimitPolicyOptions.Burst));
            value.PartitionBy = policy.String(nameof(RateLimitPolicyOptions.PartitionBy)) ?? value.PartitionBy;
            value.MissingKey = policy.Enum<MissingKeyBehavior>(nameof(RateLimitPolicyOptions.MissingKey)) ?? value.MissingKey;
            value.Mode = policy.Enum<RateLimitMode>(nameof(RateLimitPolicyOptions.Mode)) ?? value.Mode;
            value.FailurePolicy = policy.Enum<RateLimitFailurePolicy>(nameof(RateLimitPolicyOptions.FailurePolicy)) ?? value.FailurePolicy;
            value.InstanceEstimate = policy.Int32(nameof(RateLimitPolicyOptions.InstanceEstimate));
            value.Shards = policy.Int32(nameof(RateLimitPolicyOptions.Shards)) ?? value.Shards;
            value.LeaseSeconds = policy.Double(nameof(RateLimitPolicyOptions.LeaseSeconds)) ?? value.LeaseSeconds;
            var tiers = policy.Child(nameof(RateLimitPolicyOptions.Tiers));
            foreach (var tierSection in tiers.Section.GetChildren())
            {
                var tier = new SectionReader(tierSection, tiers.Path + ":" + tierSection.Key, errors);
                tier.RejectUnknown(TierKeys);
                value.Tiers[tierSection.Key] = new RateLimitTierOptions
                {
                    Limit = tier.Int64(nameof(RateLimitTierOptions.Limit)) ?? 0,
                    Burst = tier.Int64(nameof(RateLimitTierOptions.Burst)),
                };
            }

            options.Policies[policySection.Key] = value;
        }
    }

    private readonly struct SectionReader(IConfiguration section, string path, List<string> errors)
    {
        public IConfiguration Section => section;

        public string Path => path;

        public SectionReader Child(string key) => new(section.GetSection(key), path + ":" + key, errors);

        public void RejectUnknown(string[] known)
        {
            foreach (var child in ConfigurationKeys.Unknown(section, known))
            {
                errors.Add($"{path}:{child.Key} is not a known setting. Known: {string.Join(", ", known)}.");
            }
        }

        public string? String(string key)
        {
            var value = section[key];
            return string.IsNullOrWhiteSpace(value) ? null : value.Trim();
        }

        public int? Int32(string key) => Parse<int>(key, "a whole number", static s => int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : null);

        public long? Int64(string key) => Parse<long>(key, "a whole number", static s => long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : null);

        public double? Double(string key) => Parse<double>(key, "a number", static s =>
            double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v) ? v : null);

        public bool? Boolean(string key) => Parse<bool>(key, "true or false", static s => bool.TryParse(s, out var v) ? v : null);

        public T? Enum<T>(string key)
            where T : struct, Enum =>
            Parse<T>(key, "one of " + string.Join(", ", System.Enum.GetNames<T>()), static s =>
                System.Enum.TryParse<T>(s, ignoreCase: true, out var v) && System.Enum.IsDefined(v) && !char.IsAsciiDigit(s[0]) ? v : null);

        private T? Parse<T>(string key, string expected, Func<string, T?> parse)
            where T : struct
        {
            if (section.GetSection(key).GetChildren().Any())
            {
                errors.Add($"{path}:{key} must be {expected}, not a section.");
                return null;
            }

            var text = String(key);
            if (text is null)
            {
                return null;
            }

            var value = parse(text);
            if (value is null)
            {
                errors.Add($"{path}:{key} must be {expected}, not '{FuncGateway.Model.PrintableText.Of(text)}'.");
            }

            return value;
        }
    }
}
