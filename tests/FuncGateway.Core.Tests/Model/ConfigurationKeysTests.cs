using FuncGateway.Model;
using System.Text.Json;
using FuncGateway.Health;
using FuncGateway.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace FuncGateway.Core.Tests.Model;

/// <summary>
/// A key under <c>FuncGateway</c> that no setting takes (a typo) stops start-up with a message naming its full key,
/// in every section: the bound ones (<c>GatewayOptions</c>, <c>FuncGateway:Health</c>) as the hand-read ones already did
/// (<c>Auth</c>, <c>RateLimits</c>, which the bound check leaves to their readers).
/// </summary>
public sealed class ConfigurationKeysTests
{
    [Fact]
    public async Task A_mistyped_gateway_setting_stops_the_host_at_start_up_naming_the_key_and_the_likely_meaning()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["FuncGateway:Storage:ConnectionString"] = "UseDevelopmentStorage=true",
            ["FuncGateway:Forwarding:DefaultTimeoutSecond"] = "30",
        });
        builder.Services.AddFuncGateway(builder.Configuration);
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Equal(["FuncGateway:Forwarding:DefaultTimeoutSecond is not a known setting; did you mean DefaultTimeoutSeconds?"], error.Failures);
    }

    [Fact]
    public void Every_unknown_key_of_the_gateway_section_is_reported_with_its_full_key()
    {
        using var gateway = Gateway(
            ("FuncGateway:Storage:RoutesTable", "MyRoutes"),
            ("FuncGateway:Registry:RefreshIntervalSecs", "2"),
            ("FuncGateway:Registry:ReadTimeoutSeconds:Value", "3"),
            ("FuncGateway:Helath:ProbeTickSeconds", "1"),
            ("FuncGateway:Bogus", "1"),
            ("funcgateway:forwarding:publichosts", "api.example.com"));

        var error = Assert.Throws<OptionsValidationException>(() => gateway.GetRequiredService<IOptions<GatewayOptions>>().Value);

        string[] expected =
        [
            "FuncGateway:Storage:RoutesTable is not a known setting. Known: ConnectionString, TableServiceUri, ManagedIdentityClientId, TablePrefix.",
            "FuncGateway:Registry:RefreshIntervalSecs is not a known setting; did you mean RefreshIntervalSeconds?",
            "FuncGateway:Registry:ReadTimeoutSeconds:Value is not a known setting: FuncGateway:Registry:ReadTimeoutSeconds takes a single value.",
            "FuncGateway:Helath is not a known setting; did you mean Health?",
            "FuncGateway:Bogus is not a known setting. Known: Storage, Registry, Forwarding, ForwardedHeaders, Admin, Telemetry, Auth, RateLimits, Health, Cors, Cache, Versioning, Discovery.",
        ];
        Assert.Equal(expected.Order(StringComparer.Ordinal), error.Failures.Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("FuncGateway:Registry:RefreshIntervalSeconds", "0.1", "RefreshIntervalSeconds")]
    [InlineData("FuncGateway:Registry:StartupWaitSeconds", "500", "StartupWaitSeconds")]
    [InlineData("FuncGateway:Registry:ReadTimeoutSeconds", "0.5", "ReadTimeoutSeconds")]
    [InlineData("FuncGateway:Forwarding:DefaultTimeoutSeconds", "99999", "DefaultTimeoutSeconds")]
    [InlineData("FuncGateway:Forwarding:MaxBufferedResponseBytes", "0", "MaxBufferedResponseBytes")]
    [InlineData("FuncGateway:Forwarding:MaxRequestBodySizeBytes", "-1", "MaxRequestBodySizeBytes")]
    [InlineData("FuncGateway:Forwarding:MinResponseDataRateGraceSeconds", "1", "MinResponseDataRateGraceSeconds")]
    [InlineData("FuncGateway:Telemetry:SamplingRatio", "2", "SamplingRatio")]
    [InlineData("FuncGateway:Storage:TablePrefix", "1bad", "TablePrefix")]
    public void A_value_outside_its_documented_range_stops_the_host_naming_the_setting(string key, string value, string name)
    {
        using var gateway = Gateway((key, value));

        var error = Assert.Throws<OptionsValidationException>(() => gateway.GetRequiredService<IOptions<GatewayOptions>>().Value);

        Assert.Contains(name, string.Join(" ", error.Failures), StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_health_setting_fails_its_own_section_and_not_the_gateways()
    {
        using var gateway = Gateway(("FuncGateway:Health:ProbeTick", "1"), ("FuncGateway:Health:LeaseSeconds", "15"));

        var error = Assert.Throws<OptionsValidationException>(() => gateway.GetRequiredService<IOptions<HealthOptions>>().Value);

        Assert.Equal(["FuncGateway:Health:ProbeTick is not a known setting; did you mean ProbeTickSeconds?"], error.Failures);
        Assert.NotNull(gateway.GetRequiredService<IOptions<GatewayOptions>>().Value);
    }

    [Fact]
    public void Unknown_auth_and_rate_limit_keys_are_still_reported_by_their_own_readers_only()
    {
        using var gateway = Gateway(("FuncGateway:Auth:Polices:x:Type", "ApiKey"), ("FuncGateway:RateLimits:Bogus", "1"));

        Assert.NotNull(gateway.GetRequiredService<IOptions<GatewayOptions>>().Value);
        var auth = Assert.Throws<OptionsValidationException>(() => gateway.GetRequiredService<IOptions<FuncGateway.Authentication.GatewayAuthSettings>>().Value);
        Assert.Contains(auth.Failures, f => f.StartsWith("FuncGateway:Auth:Polices is not a known setting here. Known: Policies, ApiKeys, Signing.", StringComparison.Ordinal));
        var limits = Assert.Throws<OptionsValidationException>(() => gateway.GetRequiredService<IOptions<FuncGateway.RateLimiting.RateLimitOptions>>().Value);
        Assert.Contains(limits.Failures, f => f.StartsWith("FuncGateway:RateLimits:Bogus is not a known setting.", StringComparison.Ordinal));
    }

    [Fact]
    public void Every_documented_key_and_the_sample_settings_pass()
    {
        using var documented = Gateway(
            ("FuncGateway:Storage:ConnectionString", "UseDevelopmentStorage=true"),
            ("FuncGateway:Storage:TableServiceUri", "https://fgw.table.core.windows.net"),
            ("FuncGateway:Storage:ManagedIdentityClientId", "00000000-0000-0000-0000-000000000001"),
            ("FuncGateway:Storage:TablePrefix", "Gateway"),
            ("FuncGateway:Registry:RefreshIntervalSeconds", "5"),
            ("FuncGateway:Registry:StartupWaitSeconds", "10"),
            ("FuncGateway:Registry:ReadTimeoutSeconds", "15"),
            ("FuncGateway:Forwarding:DefaultTimeoutSeconds", "100"),
            ("FuncGateway:Forwarding:ConnectTimeoutSeconds", "10"),
            ("FuncGateway:Forwarding:PooledConnectionLifetimeSeconds", "300"),
            ("FuncGateway:Forwarding:PooledConnectionIdleTimeoutSeconds", "60"),
            ("FuncGateway:Forwarding:MaxRequestBodySizeBytes", "104857600"),
            ("FuncGateway:Forwarding:PublicHosts", "localhost"),
            ("FuncGateway:Forwarding:AllowedUpstreams", "10.0.0.0/8"),
            ("FuncGateway:Forwarding:MinResponseDataRateBytesPerSecond", "4096"),
            ("FuncGateway:Forwarding:MinResponseDataRateGraceSeconds", "10"),
            ("FuncGateway:ForwardedHeaders:TrustedProxies", "127.0.0.1"),
            ("FuncGateway:Admin:Key", "k"),
            ("FuncGateway:Health:RefreshIntervalSeconds", "5"),
            ("FuncGateway:Health:ProbeEnabled", "true"),
            ("FuncGateway:Health:ProbeTickSeconds", "5"),
            ("FuncGateway:Health:LeaseSeconds", "15"),
            ("FuncGateway:Health:MaxParallelProbes", "32"),
            ("FuncGateway:Auth:Policies:keys:Type", "ApiKey"),
            ("FuncGateway:RateLimits:KeyHashSecret", "0123456789abcdef0123456789abcdef"));
        using var sample = Gateway(SampleSettings());

        foreach (var gateway in new[] { documented, sample })
        {
            Assert.NotNull(gateway.GetRequiredService<IOptions<GatewayOptions>>().Value);
            Assert.NotNull(gateway.GetRequiredService<IOptions<HealthOptions>>().Value);
            Assert.NotNull(gateway.GetRequiredService<IOptions<FuncGateway.Authentication.GatewayAuthSettings>>().Value);
            Assert.NotNull(gateway.GetRequiredService<IOptions<FuncGateway.RateLimiting.RateLimitOptions>>().Value);
        }
    }

    /// <summary>The <c>Values</c> of local.settings.sample.json, as the hosts read them.</summary>
    private static (string, string)[] SampleSettings()
    {
        using var document = JsonDocument.Parse(File.ReadAllText(RepositoryRoot.Combine("local.settings.sample.json")));
        return [.. document.RootElement.GetProperty("Values").EnumerateObject()
            .Select(static p => (p.Name.Replace("__", ":", StringComparison.Ordinal), p.Value.GetString()!))];
    }

    private static ServiceProvider Gateway(params (string Key, string Value)[] settings)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(static s => KeyValuePair.Create(s.Key, (string?)s.Value)))
            .Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddFuncGateway(configuration);
        return services.BuildServiceProvider();
    }
}
