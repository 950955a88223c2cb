using FuncGateway.Discovery;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;

namespace FuncGateway.Core.Tests.Discovery;

/// <summary>Registration keys are checked at start-up, every problem at once, each naming its setting and never its value.</summary>
public sealed class RegistrationKeysTests
{
    private const string Root = "FuncGateway:Discovery:Registration:Keys";
    private const string Good = "orders-registration-key-0123456789abcdef";

    [Theory]
    [InlineData("orders-app", Good, "orders", $"{Root}:orders-app: 'orders-app' is not a valid registration key name")]
    [InlineData("orders", "short-key", "orders", $"{Root}:orders:Key must be at least 32 characters (it has 9)")]
    [InlineData("orders", null, "orders", $"{Root}:orders:Key is required")]
    [InlineData("orders", Good, "", $"{Root}:orders:Pools is required")]
    [InlineData("orders", Good, " , ", $"{Root}:orders:Pools is required")]
    [InlineData("orders", Good, "orders,*", $"{Root}:orders:Pools: '*' is not allowed")]
    [InlineData("orders", "admin-key-of-the-gateway-0123456789abcdef", "orders", $"{Root}:orders:Key is the admin key")]
    public void A_bad_key_stops_start_up_naming_the_setting(string name, string? key, string pools, string expected)
    {
        using var services = Build(new()
        {
            [$"{Root}:{name}:Key"] = key,
            [$"{Root}:{name}:Pools"] = pools,
        });

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<DiscoveryOptions>>().Value);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        if (key is not null)
        {
            Assert.DoesNotContain(key, error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Two_names_with_the_same_secret_stop_start_up()
    {
        using var services = Build(new()
        {
            [$"{Root}:orders:Key"] = Good,
            [$"{Root}:orders:Pools"] = "orders",
            [$"{Root}:billing:Key"] = Good,
            [$"{Root}:billing:Pools"] = "billing",
        });

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<DiscoveryOptions>>().Value);
        Assert.Contains($"{Root}:orders:Key has the same value as {Root}:billing:Key", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Good, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_good_key_allows_its_own_pools_only()
    {
        using var services = Build(new()
        {
            [$"{Root}:orders:Key"] = Good,
            [$"{Root}:orders:Pools"] = "orders, orders-eu",
        });

        var keys = services.GetRequiredService<RegistrationKeys>();
        Assert.True(keys.Any);
        Assert.True(keys.Allows(Good, "orders"));
        Assert.True(keys.Allows(Good, "orders-eu"));
        Assert.False(keys.Allows(Good, "Orders"));
        Assert.False(keys.Allows(Good, "billing"));
        Assert.False(keys.Allows(Good + "x", "orders"));
        Assert.False(keys.Allows("admin-key-of-the-gateway-0123456789abcdef", "orders"));
    }

    [Fact]
    public void A_key_whose_Key_Vault_reference_is_unresolved_is_refused_and_logged_while_the_gateway_starts()
    {
        // App Service passes the reference text itself when it cannot read the secret: that text must never work as a
        // key, and a vault that is briefly unreachable must not take the whole gateway down (as for the admin key).
        const string Reference = "@Microsoft.KeyVault(SecretUri=https://kv.vault.azure.net/secrets/orders)";
        var logs = new FakeLogCollector();
        using var services = Build(
            new()
            {
                [$"{Root}:orders:Key"] = Reference,
                [$"{Root}:orders:Pools"] = "orders",
                [$"{Root}:billing:Key"] = Good,
                [$"{Root}:billing:Pools"] = "billing",
            },
            logs);

        _ = services.GetRequiredService<IOptions<DiscoveryOptions>>().Value;
        var keys = services.GetRequiredService<RegistrationKeys>();
        Assert.True(keys.Any);
        Assert.False(keys.Allows(Reference, "orders"));
        Assert.True(keys.Allows(Good, "billing"));
        var logged = Assert.Single(logs.GetSnapshot(), static r => r.Id.Id == 8609);
        Assert.Contains($"{Root}:orders:Key", logged.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("kv.vault.azure.net", logged.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_setting_under_a_key_stops_start_up()
    {
        using var services = Build(new()
        {
            [$"{Root}:orders:Key"] = Good,
            [$"{Root}:orders:Pools"] = "orders",
            [$"{Root}:orders:Pool"] = "billing",
        });

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<DiscoveryOptions>>().Value);
        Assert.Contains($"{Root}:orders:Pool is not a known setting; did you mean Pools?", error.Message, StringComparison.Ordinal);
    }

    private static ServiceProvider Build(Dictionary<string, string?> settings, FakeLogCollector? logs = null)
    {
        settings["FuncGateway:Storage:TableServiceUri"] = "https://fgw.table.core.windows.net";
        settings["FuncGateway:RateLimits:KeyHashSecret"] = "rate-limit-key-hash-secret-0123456789";
        settings["FuncGateway:Admin:Key"] = "admin-key-of-the-gateway-0123456789abcdef";
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddFuncGateway(configuration);
        if (logs is not null)
        {
            services.AddLogging(builder => builder.AddProvider(new FakeLoggerProvider(logs)));
        }

        return services.BuildServiceProvider();
    }
}
