using FuncGateway.Model;
using FuncGateway.RateLimiting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace FuncGateway.Core.Tests.RateLimiting;

/// <summary>Where the secret that keys counter rows comes from, and what start-up says when there is none.</summary>
public sealed class CounterKeyTests
{
    private const string AzuriteKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
    private const string Secret = "0123456789abcdef0123456789abcdef";

    [Fact]
    public void The_setting_keys_the_hash_and_instances_with_the_same_secret_agree()
    {
        var one = CounterKeyHasher.Create(Secret, new StorageOptions { ConnectionString = "UseDevelopmentStorage=true" }, null)!;
        var two = CounterKeyHasher.Create(Secret, new StorageOptions { TableServiceUri = "https://a.table.core.windows.net" }, null)!;
        var other = CounterKeyHasher.Create(Secret + "x", new StorageOptions(), null)!;

        Assert.Equal(CounterKeySource.Setting, one.Source);
        Assert.Equal(one.Hash(null, "ip=203.0.113.7"), two.Hash(null, "ip=203.0.113.7"));
        Assert.NotEqual(one.Hash(null, "ip=203.0.113.7"), other.Hash(null, "ip=203.0.113.7"));
        Assert.NotEqual(one.Hash(null, "ip=203.0.113.7"), one.Hash("gold", "ip=203.0.113.7"));
        Assert.Matches("^[0-9a-f]{32}$", one.Hash(null, "user=alice"));
    }

    [Fact]
    public void Without_the_setting_the_secret_is_derived_from_the_account_key_however_the_connection_string_is_written()
    {
        var explicitAzurite = CounterKeyHasher.Create(null, new StorageOptions
        {
            ConnectionString = $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AzuriteKey};TableEndpoint=http://127.0.0.1:1/devstoreaccount1;",
        }, null)!;
        var reordered = CounterKeyHasher.Create(null, new StorageOptions(), $" AccountKey = {AzuriteKey} ; AccountName=devstoreaccount1")!;
        var development = CounterKeyHasher.Create(null, new StorageOptions { ConnectionString = "UseDevelopmentStorage=true" }, null)!;
        var otherAccount = CounterKeyHasher.Create(null, new StorageOptions { ConnectionString = "AccountName=prod;AccountKey=" + Convert.ToBase64String(new byte[64]) }, null)!;

        Assert.Equal(CounterKeySource.AccountKey, explicitAzurite.Source);
        Assert.Equal(explicitAzurite.Hash(null, "ip=192.0.2.1"), reordered.Hash(null, "ip=192.0.2.1"));
        Assert.Equal(explicitAzurite.Hash(null, "ip=192.0.2.1"), development.Hash(null, "ip=192.0.2.1"));
        Assert.NotEqual(explicitAzurite.Hash(null, "ip=192.0.2.1"), otherAccount.Hash(null, "ip=192.0.2.1"));
    }

    [Theory]
    [InlineData(null, "https://fgw.table.core.windows.net", null)]
    [InlineData("TableEndpoint=https://fgw.table.core.windows.net;SharedAccessSignature=sv=2024&sig=abc", null, null)]
    [InlineData(null, "https://fgw.table.core.windows.net", "UseDevelopmentStorage=true")]
    public void Storage_without_an_account_key_and_no_setting_has_no_secret(string? connectionString, string? tableServiceUri, string? hostConnectionString)
    {
        Assert.Null(CounterKeyHasher.Create(null, new StorageOptions { ConnectionString = connectionString, TableServiceUri = tableServiceUri }, hostConnectionString));
    }

    [Fact]
    public void Start_up_fails_naming_the_setting_when_storage_is_reached_with_an_identity_and_no_secret_is_set()
    {
        using var identity = Build(new()
        {
            ["FuncGateway:Storage:TableServiceUri"] = "https://fgw.table.core.windows.net",
        });
        var error = Assert.Throws<OptionsValidationException>(() => identity.GetRequiredService<IOptions<RateLimitOptions>>().Value);
        Assert.Contains("FuncGateway:RateLimits:KeyHashSecret is required", error.Message, StringComparison.Ordinal);

        using var withSecret = Build(new()
        {
            ["FuncGateway:Storage:TableServiceUri"] = "https://fgw.table.core.windows.net",
            ["FuncGateway:RateLimits:KeyHashSecret"] = Secret,
        });
        Assert.Equal(CounterKeySource.Setting, withSecret.GetRequiredService<CounterKeyHasher>().Source);

        // Nothing counts (no policy, throttle off): nothing to key, nothing required.
        using var unused = Build(new()
        {
            ["FuncGateway:Storage:TableServiceUri"] = "https://fgw.table.core.windows.net",
            ["FuncGateway:RateLimits:AuthenticationFailures:Enabled"] = "false",
        });
        Assert.NotNull(unused.GetRequiredService<IOptions<RateLimitOptions>>().Value);
    }

    [Theory]
    [InlineData("too-short", "FuncGateway:RateLimits:KeyHashSecret must be at least 32 characters (it has 9)")]
    [InlineData("@Microsoft.KeyVault(SecretUri=https://kv.vault.azure.net/secrets/FuncGateway--RateLimits--KeyHashSecret)", "FuncGateway:RateLimits:KeyHashSecret is still an unresolved Key Vault reference")]
    public void A_short_secret_or_an_unresolved_key_vault_reference_stops_start_up_without_quoting_it(string secret, string message)
    {
        using var services = Build(new()
        {
            ["FuncGateway:Storage:ConnectionString"] = "UseDevelopmentStorage=true",
            ["FuncGateway:RateLimits:KeyHashSecret"] = secret,
        });

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<RateLimitOptions>>().Value);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, error.Message, StringComparison.Ordinal);
    }

    private static ServiceProvider Build(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddFuncGateway(configuration);
        return services.BuildServiceProvider();
    }
}
