using System.Reflection;

namespace FuncGateway.Infra.Tests;

/// <summary>The app settings the deployment writes: identity-based storage, telemetry, and every gateway setting.</summary>
public sealed class AppSettingsTemplateTests
{
    private static readonly ArmTemplate Main = InfraBuild.Current.MainTemplate;

    /// <summary>The one list in main.bicep, as it reaches the module that writes it: name to value (or expression).</summary>
    private static readonly Dictionary<string, string> Settings = Main.ModuleArgument("appSettings", "settings")
        .EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? "", StringComparer.OrdinalIgnoreCase);

    [Fact]
    public void The_settings_are_written_as_the_apps_appsettings_after_the_role_assignments()
    {
        var config = Main.Module("appSettings").Single("Microsoft.Web/sites/config");

        Assert.EndsWith("'appsettings')]", config.StringAt("name"), StringComparison.Ordinal);
        Assert.Equal("[parameters('settings')]", config.StringAt("properties"));

        // Applied once the identity holds its roles: the host starts with storage it can reach and Key Vault
        // references it can resolve.
        var dependsOn = Main.Deployment("appSettings").At("dependsOn").EnumerateArray().Select(d => d.GetString()).ToList();
        Assert.Contains("[resourceId('Microsoft.Resources/deployments', 'roleAssignments')]", dependsOn);
        Assert.Contains("[resourceId('Microsoft.Resources/deployments', 'functionApp')]", dependsOn);
    }

    [Fact]
    public void Every_setting_the_gateway_reads_at_start_up_is_set()
    {
        var missing = GatewaySettings.ReadAtStartup.Where(name => !Settings.ContainsKey(name)).ToList();

        Assert.True(missing.Count == 0, "infra/main.bicep does not set: " + string.Join(", ", missing));
    }

    [Fact]
    public void The_list_of_settings_covers_every_gateway_option()
    {
        // A new option in GatewayOptions fails here until the deployment sets it (GatewaySettings.ReadAtStartup and
        // main.bicep) or says why it does not (GatewaySettings.NotSetInAzure).
        var options = OptionNames(typeof(GatewayOptions), GatewayOptions.SectionName)
            .Concat(OptionNames(typeof(FuncGateway.RateLimiting.RateLimitOptions), FuncGateway.RateLimiting.RateLimitOptions.SectionName.Replace(":", "__", StringComparison.Ordinal)))
            .ToList();
        var unaccounted = options
            .Where(o => !GatewaySettings.ReadAtStartup.Contains(o) && !GatewaySettings.NotSetInAzure.ContainsKey(o))
            .ToList();
        var stale = GatewaySettings.ReadAtStartup.Concat(GatewaySettings.NotSetInAzure.Keys).Except(options).ToList();

        Assert.True(unaccounted.Count == 0, "Options the deployment does not decide about: " + string.Join(", ", unaccounted));
        Assert.True(stale.Count == 0, "Listed settings that are not gateway options: " + string.Join(", ", stale));
    }

    [Fact]
    public void The_functions_host_reaches_its_storage_with_the_apps_identity()
    {
        Assert.Contains("'storage'", Settings["AzureWebJobsStorage__accountName"], StringComparison.Ordinal);
        Assert.EndsWith(".outputs.name.value]", Settings["AzureWebJobsStorage__accountName"], StringComparison.Ordinal);
        Assert.Equal("managedidentity", Settings["AzureWebJobsStorage__credential"]);
        Assert.All(GatewaySettings.HostStorage, name => Assert.True(Settings.ContainsKey(name), name));
    }

    [Fact]
    public void The_gateway_reads_the_registry_with_the_apps_identity()
    {
        var tableServiceUri = Settings["FuncGateway__Storage__TableServiceUri"];

        Assert.Contains("'storage'", tableServiceUri, StringComparison.Ordinal);
        Assert.EndsWith(".outputs.tableEndpoint.value]", tableServiceUri, StringComparison.Ordinal);
    }

    [Fact]
    public void No_setting_holds_a_connection_string_or_key()
    {
        Assert.All(GatewaySettings.Forbidden, name => Assert.False(Settings.ContainsKey(name), $"{name} is set"));
        Assert.All(Settings, setting =>
        {
            foreach (var secret in new[] { "AccountKey=", "SharedAccessSignature=", "DefaultEndpointsProtocol=", "InstrumentationKey=", "listKeys(" })
            {
                Assert.DoesNotContain(secret, setting.Value, StringComparison.OrdinalIgnoreCase);
            }
        });
    }

    [Fact]
    public void Telemetry_goes_to_application_insights_with_entra_id_authentication()
    {
        Assert.Contains("'monitoring'", Settings["APPLICATIONINSIGHTS_CONNECTION_STRING"], StringComparison.Ordinal);
        Assert.Equal("Authorization=AAD", Settings["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"]);

        var monitoring = Main.Module("monitoring");
        var component = monitoring.Single("Microsoft.Insights/components");
        Assert.True(component.At("properties", "DisableLocalAuth").GetBoolean(), "without this, the connection string alone could send telemetry");
        Assert.Contains("Microsoft.OperationalInsights/workspaces", component.StringAt("properties", "WorkspaceResourceId"), StringComparison.Ordinal);
        Assert.Single(monitoring.OfType("Microsoft.OperationalInsights/workspaces"));
    }

    [Fact]
    public void The_gateway_answers_only_to_its_own_host_name_unless_public_hosts_are_given()
    {
        var publicHosts = Settings["FuncGateway__Forwarding__PublicHosts"];

        // Empty parameter: the app's default host name, so a fresh deployment never vouches for a host a client made up.
        Assert.Contains("empty(parameters('forwardingPublicHosts'))", publicHosts, StringComparison.Ordinal);
        Assert.Contains("'functionApp'", publicHosts, StringComparison.Ordinal);
        Assert.Contains(".outputs.defaultHostName.value", publicHosts, StringComparison.Ordinal);
        Assert.Contains("parameters('forwardingPublicHosts')", publicHosts.Replace("empty(parameters('forwardingPublicHosts'))", "", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.Equal("", Main.Parameters.StringAt("forwardingPublicHosts", "defaultValue"));

        Assert.Equal("[parameters('forwardingAllowedUpstreams')]", Settings["FuncGateway__Forwarding__AllowedUpstreams"]);
        Assert.Equal("", Main.Parameters.StringAt("forwardingAllowedUpstreams", "defaultValue"));
    }

    [Fact]
    public void The_admin_key_is_only_ever_a_key_vault_reference()
    {
        var adminKey = Settings["FuncGateway__Admin__Key"];

        Assert.Contains("format('@Microsoft.KeyVault(SecretUri={0})'", adminKey, StringComparison.Ordinal);
        Assert.Contains(".outputs.adminKeyUri.value", adminKey, StringComparison.Ordinal);

        // The key's value never appears in a setting: the expression only tests whether one was given.
        Assert.DoesNotContain("parameters('adminKey'))", adminKey.Replace("empty(parameters('adminKey'))", "", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.Equal("securestring", Main.Parameters.StringAt("adminKey", "type"));
        Assert.Equal("", Main.Parameters.StringAt("adminKey", "defaultValue"));
    }

    [Fact]
    public void The_rate_limit_counter_key_secret_is_always_a_key_vault_reference_and_never_a_value()
    {
        var setting = Settings["FuncGateway__RateLimits__KeyHashSecret"];

        Assert.Contains("format('@Microsoft.KeyVault(SecretUri={0})'", setting, StringComparison.Ordinal);
        Assert.Contains(".outputs.rateLimitKeyHashSecretUri.value", setting, StringComparison.Ordinal);
        Assert.DoesNotContain("parameters('rateLimitKeyHashSecret')", setting, StringComparison.Ordinal);
        Assert.Contains("fail(", setting, StringComparison.Ordinal);
        Assert.Equal("securestring", Main.Parameters.StringAt("rateLimitKeyHashSecret", "type"));
        Assert.Equal("", Main.Parameters.StringAt("rateLimitKeyHashSecret", "defaultValue"));
        Assert.True(Main.Parameters.At("deployKeyVault", "defaultValue").GetBoolean(), "the secret needs the vault, so the vault is on by default");

        // The secret is written to the vault only when a value is given: a later deployment keeps the stored one.
        var secret = Main.Module("keyVault").OfType("Microsoft.KeyVault/vaults/secrets")
            .Single(s => s.StringAt("name")!.Contains("rateLimitKeyHashSecretName", StringComparison.Ordinal));
        Assert.Equal("[not(empty(parameters('rateLimitKeyHashSecret')))]", secret.StringAt("condition"));
    }

    /// <summary>App setting names of every settable leaf option under <paramref name="type"/>.</summary>
    private static IEnumerable<string> OptionNames(Type type, string prefix)
    {
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.SetMethod?.IsPublic == true))
        {
            var name = $"{prefix}__{property.Name}";
            var propertyType = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            if (propertyType.IsPrimitive || propertyType.IsEnum || propertyType == typeof(string) || propertyType == typeof(decimal) ||
                propertyType == typeof(TimeSpan) || propertyType == typeof(Uri))
            {
                yield return name;
            }
            else if (propertyType.IsClass && !typeof(System.Collections.IEnumerable).IsAssignableFrom(propertyType))
            {
                foreach (var nested in OptionNames(propertyType, name))
                {
                    yield return nested;
                }
            }

            // Collections (named policies and the like) are configured per entry, not as one app setting.
        }
    }
}
