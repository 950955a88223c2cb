using FuncGateway.RateLimiting;
using Microsoft.Extensions.Configuration;

namespace FuncGateway.Core.Tests.RateLimiting;

/// <summary>Reading <c>FuncGateway:RateLimits</c> and checking it: defaults, every key, every error at once.</summary>
public sealed class RateLimitOptionsTests
{
    private static (RateLimitOptions Options, List<string> Errors) Read(params (string Key, string Value)[] settings)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value)))
            .Build();
        var options = new RateLimitOptions();
        RateLimitOptionsReader.Read(configuration.GetSection(RateLimitOptions.SectionName), options);
        return (options, RateLimitOptionsValidator.Validate(options));
    }

    [Fact]
    public void A_policy_needs_only_a_limit_and_gets_documented_defaults()
    {
        var (options, errors) = Read(("FuncGateway:RateLimits:Policies:per_ip:Limit", "100"));

        Assert.Empty(errors);
        var policy = options.Policies["PER_IP"];
        Assert.Equal(RateLimitAlgorithm.FixedWindow, policy.Algorithm);
        Assert.Equal(60, policy.WindowSeconds);
        Assert.Equal("ClientIp", policy.PartitionBy);
        Assert.Equal(RateLimitMode.Auto, policy.Mode);
        Assert.Equal(RateLimitFailurePolicy.FailOpen, policy.FailurePolicy);
        Assert.Equal(MissingKeyBehavior.ClientIp, policy.MissingKey);
        Assert.Equal(1, options.InstanceEstimate);
        Assert.True(options.AuthenticationFailures.Enabled);
        Assert.Equal(10, options.AuthenticationFailures.Limit);
    }

    [Fact]
    public void Every_key_is_read_case_insensitively_as_environment_variables_spell_them()
    {
        var (options, errors) = Read(
            ("FuncGateway:RateLimits:InstanceEstimate", "4"),
            ("FuncGateway:RateLimits:MaxPartitionsPerPolicy", "5000"),
            ("FuncGateway:RateLimits:OperationTimeoutSeconds", "1.5"),
            ("FuncGateway:RateLimits:OutageBackoffSeconds", "3"),
            ("FuncGateway:RateLimits:IPv6PrefixLength", "56"),
            ("FuncGateway:RateLimits:MaintenanceIntervalSeconds", "120"),
            ("FuncGateway:RateLimits:RetentionSeconds", "30"),
            ("FuncGateway:RateLimits:AuthenticationFailures:Enabled", "false"),
            ("FuncGateway:RateLimits:AuthenticationFailures:Limit", "5"),
            ("FuncGateway:RateLimits:AuthenticationFailures:WindowSeconds", "300"),
            ("FuncGateway:RateLimits:AuthenticationFailures:FailurePolicy", "failclosed"),
            ("FuncGateway:RateLimits:Policies:burst:algorithm", "tokenbucket"),
            ("FuncGateway:RateLimits:Policies:burst:Limit", "600"),
            ("FuncGateway:RateLimits:Policies:burst:WindowSeconds", "60"),
            ("FuncGateway:RateLimits:Policies:burst:Burst", "50"),
            ("FuncGateway:RateLimits:Policies:burst:PartitionBy", "Consumer,Route"),
            ("FuncGateway:RateLimits:Policies:burst:MissingKey", "Shared"),
            ("FuncGateway:RateLimits:Policies:burst:Mode", "Fast"),
            ("FuncGateway:RateLimits:Policies:burst:FailurePolicy", "FailClosed"),
            ("FuncGateway:RateLimits:Policies:burst:InstanceEstimate", "8"),
            ("FuncGateway:RateLimits:Policies:burst:Shards", "2"),
            ("FuncGateway:RateLimits:Policies:burst:LeaseSeconds", "0.5"),
            ("FuncGateway:RateLimits:Policies:burst:Tiers:gold:Limit", "6000"),
            ("FuncGateway:RateLimits:Policies:burst:Tiers:gold:Burst", "500"));

        Assert.Empty(errors);
        Assert.Equal((4, 5000, 1.5, 3.0, 56, 120.0, 30.0), (options.InstanceEstimate, options.MaxPartitionsPerPolicy, options.OperationTimeoutSeconds,
            options.OutageBackoffSeconds, options.IPv6PrefixLength, options.MaintenanceIntervalSeconds, options.RetentionSeconds));
        Assert.Equal((false, 5L, 300.0, RateLimitFailurePolicy.FailClosed), (options.AuthenticationFailures.Enabled, options.AuthenticationFailures.Limit,
            options.AuthenticationFailures.WindowSeconds, options.AuthenticationFailures.FailurePolicy));
        var p = options.Policies["burst"];
        Assert.Equal((RateLimitAlgorithm.TokenBucket, 600L, 60.0, (long?)50, "Consumer,Route", MissingKeyBehavior.Shared, RateLimitMode.Fast, RateLimitFailurePolicy.FailClosed, (int?)8, 2, 0.5),
            (p.Algorithm, p.Limit, p.WindowSeconds, p.Burst, p.PartitionBy, p.MissingKey, p.Mode, p.FailurePolicy, p.InstanceEstimate, p.Shards, p.LeaseSeconds));
        Assert.Equal((6000L, (long?)500), (p.Tiers["GOLD"].Limit, p.Tiers["gold"].Burst));
    }

    [Fact]
    public void Every_problem_is_reported_at_once_with_its_full_key()
    {
        var (_, errors) = Read(
            ("FuncGateway:RateLimits:InstanceEstimate", "0"),
            ("FuncGateway:RateLimits:Bogus", "1"),
            ("FuncGateway:RateLimits:Policies:a:Limit", "ten"),
            ("FuncGateway:RateLimits:Policies:a:Algorithm", "LeakyBucket"),
            ("FuncGateway:RateLimits:Policies:b:Limt", "5"),
            ("FuncGateway:RateLimits:Policies:c:Limit", "5"),
            ("FuncGateway:RateLimits:Policies:c:Burst", "9"),
            ("FuncGateway:RateLimits:Policies:c:PartitionBy", "Ip"),
            ("FuncGateway:RateLimits:Policies:c:Shards", "9"),
            ("FuncGateway:RateLimits:Policies:c:Tiers:gold:Limit", "0"),
            ("FuncGateway:RateLimits:Policies:bad name:Limit", "5"),
            ("FuncGateway:RateLimits:Policies:d:Limit", "5"),
            ("FuncGateway:RateLimits:Policies:d:WindowSeconds", "0.5"),
            ("FuncGateway:RateLimits:Policies:d:Mode", "2"),
            ("FuncGateway:RateLimits:AuthenticationFailures:Policy", "missing"));

        string[] expected =
        [
            "FuncGateway:RateLimits:InstanceEstimate must be between 1 and 1000 (got 0).",
            "FuncGateway:RateLimits:Bogus is not a known setting.",
            "FuncGateway:RateLimits:Policies:a:Limit must be a whole number, not 'ten'.",
            "FuncGateway:RateLimits:Policies:a:Algorithm must be one of FixedWindow, SlidingWindow, TokenBucket, not 'LeakyBucket'.",
            "FuncGateway:RateLimits:Policies:b:Limt is not a known setting.",
            "FuncGateway:RateLimits:Policies:b:Limit is required",
            "FuncGateway:RateLimits:Policies:c:Burst applies to the TokenBucket algorithm only",
            "FuncGateway:RateLimits:Policies:c:PartitionBy: 'Ip' is not a partition key",
            "FuncGateway:RateLimits:Policies:c:Shards (9) may not exceed Limit (5)",
            "FuncGateway:RateLimits:Policies:c:Tiers:gold:Limit is required",
            "FuncGateway:RateLimits:Policies:bad name: 'bad name' is not a valid policy name: use 1-64 letters and digits, with single '_' between them",
            "FuncGateway:RateLimits:Policies:d:WindowSeconds must be between 1 and",
            "FuncGateway:RateLimits:Policies:d:Mode must be one of Auto, Strict, Fast, not '2'.",
            "FuncGateway:RateLimits:AuthenticationFailures:Policy names 'missing', which is not a policy",
        ];
        foreach (var message in expected)
        {
            Assert.Contains(errors, e => e.StartsWith(message, StringComparison.Ordinal));
        }

        Assert.True(expected.Length == errors.Count, string.Join(Environment.NewLine, errors));
    }

    [Theory]
    [InlineData("per-ip", "per_ip")]
    [InlineData("tenant.read", "tenant_read")]
    [InlineData("per__ip", "per_ip")]
    [InlineData("_ip", "ip")]
    [InlineData("ip_", "ip")]
    public void A_policy_name_that_cannot_be_an_app_setting_name_stops_the_host_and_says_what_to_rename_it_to(string name, string suggestion)
    {
        // FuncGateway__RateLimits__Policies__per-ip__Limit is refused by Azure and by a shell's export; '__' inside a
        // name would read as the key separator.
        var (_, errors) = Read(($"FuncGateway:RateLimits:Policies:{name}:Limit", "100"));

        var error = Assert.Single(errors);
        Assert.StartsWith($"FuncGateway:RateLimits:Policies:{name}: '{name}' is not a valid policy name: use 1-64 letters and digits, with single '_' between them", error, StringComparison.Ordinal);
        Assert.Contains($"Rename it, e.g. to '{suggestion}', here and wherever it is named", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_tier_name_follows_the_same_rule()
    {
        var (options, errors) = Read(
            ("FuncGateway:RateLimits:Policies:per_ip:Limit", "100"),
            ("FuncGateway:RateLimits:Policies:per_ip:Tiers:gold_plus:Limit", "1000"),
            ("FuncGateway:RateLimits:Policies:per_ip:Tiers:silver-plus:Limit", "500"));

        var error = Assert.Single(errors);
        Assert.StartsWith("FuncGateway:RateLimits:Policies:per_ip:Tiers:silver-plus: 'silver-plus' is not a valid tier name", error, StringComparison.Ordinal);
        Assert.Equal(1000, options.Policies["per_ip"].Tiers["GOLD_PLUS"].Limit);
    }

    [Theory]
    [InlineData("per_ip")]
    [InlineData("PerIp")]
    [InlineData("tier2_partner_keys")]
    [InlineData("a")]
    public void Letters_digits_and_single_underscores_make_a_policy_name(string name)
    {
        var (options, errors) = Read(($"FuncGateway:RateLimits:Policies:{name}:Limit", "100"));

        Assert.Empty(errors);
        Assert.Equal(100, options.Policies[name].Limit);
    }

    [Fact]
    public void A_name_of_65_characters_is_one_too_many()
    {
        Assert.Empty(Read(($"FuncGateway:RateLimits:Policies:{new string('a', 64)}:Limit", "1")).Errors);
        Assert.Single(Read(($"FuncGateway:RateLimits:Policies:{new string('a', 65)}:Limit", "1")).Errors);
    }
}
