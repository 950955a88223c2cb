using FuncGateway.Model;
using System.Reflection;

namespace FuncGateway.Infra.Tests;

/// <summary>The app settings the deployment writes: identity-based storage, telemetry, and every gateway setting.</summary>
public sealed class AppSettingsTemplateTests
{
    private static readonly ArmTemplate Main = InfraBuild.Current.MainTemplate;

    /// <summary>The one list in main.bicep, as it reaches the module that writes it: name to value (or expression).</summary>
    private static readonly Dictionary<string, string> Settings = Main.ModuleArgument("appSettings", "settings")
        .EnumerateObject().ToDictionary(p => p.Name, p => Inline(p.Value.GetString() ?? ""), StringComparer.OrdinalIgnoreCase);

    /// <summary>A setting that is just <c>[variables('x')]</c> (a secret's reference) as that variable's expression.</summary>
    private static string Inline(string value) =>
        value.StartsWith("[variables('", StringComparison.Ordinal) && value.EndsWith("')]", StringComparison.Ordinal)
            ? Main.Root.StringAt("variables", value["[variables('".Length..^"')]".Length])!
            : value;

    [Fact]
    public void The_settings_are_written_as_the_apps_appsettings_after_the_role_assignments()
    {
        var config = Main.Module("appSettings").Single("Microsoft.Web/sites/config");

        Assert.EndsWith("'appsettings')]", config.StringAt("name"), StringComparison.Ordinal);
        // The settings made from the configuration sections first, so that the fixed ones win.
        Assert.Equal("[union(parameters('gatewaySettings'), parameters('settings'))]", config.StringAt("properties"));

        // Applied once the identity holds its roles: the host starts with storage it can reach and Key Vault
        // references it can resolve.
        // (A template with user-defined functions compiles to symbolic names: dependsOn lists the modules' names.)
        var dependsOn = Main.Deployment("appSettings").At("dependsOn").EnumerateArray().Select(d => d.GetString()).ToList();
        Assert.Contains("roleAssignments", dependsOn);
        Assert.Contains("functionApp", dependsOn);
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
            .Concat(OptionNames(typeof(FuncGateway.Caching.CacheOptions), FuncGateway.Caching.CacheOptions.SectionName.Replace(":", "__", StringComparison.Ordinal)))
            .Concat(OptionNames(typeof(FuncGateway.Discovery.Consul.ConsulDiscoveryOptions), FuncGateway.Discovery.Consul.ConsulDiscoveryOptions.SectionName.Replace(":", "__", StringComparison.Ordinal)))
            .Concat(OptionNames(typeof(FuncGateway.Discovery.Kubernetes.KubernetesDiscoveryOptions), FuncGateway.Discovery.Kubernetes.KubernetesDiscoveryOptions.SectionName.Replace(":", "__", StringComparison.Ordinal)))
            .Concat(OptionNames(typeof(FuncGateway.Discovery.DiscoveryOptions), FuncGateway.Discovery.DiscoveryOptions.SectionName.Replace(":", "__", StringComparison.Ordinal)))
            .ToList();
        var unaccounted = options
            .Where(o => !GatewaySettings.ReadAtStartup.Contains(o) && !GatewaySettings.NotSetInAzure.ContainsKey(o))
            .ToList();
        var stale = GatewaySettings.ReadAtStartup.Concat(GatewaySettings.NotSetInAzure.Keys).Except(options).ToList();

        Assert.True(unaccounted.Count == 0, "Options the deployment does not decide about: " + string.Join(", ", unaccounted));
        Assert.True(stale.Count == 0, "Listed settings that are not gateway options: " + string.Join(", ", stale));
    }

    [Fact]
    public void Every_section_of_named_policies_is_a_parameter_the_template_turns_into_app_settings()
    {
        var configured = Main.Root.StringAt("variables", "plainSettings")!;
        foreach (var (section, parameter) in GatewaySettings.PolicySections)
        {
            Assert.Equal("object", Main.Parameters.StringAt(parameter, "type"));
            Assert.Equal("{}", Main.Parameters.At(parameter, "defaultValue").GetRawText());
            Assert.Contains($"__bicep.settings4('{section}', parameters('{parameter}'))", configured, StringComparison.Ordinal);
        }
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

        // The deployment's own account, or (route groups) the account of another gateway whose registry it shares.
        Assert.Equal(
            "[if(empty(parameters('registryStorageAccountName')), reference('storage').outputs.tableEndpoint.value, format('https://{0}.table.{1}/', parameters('registryStorageAccountName'), environment().suffixes.storage))]",
            tableServiceUri);
        Assert.Equal(tableServiceUri, Main.Outputs.StringAt("tableEndpoint", "value"));
        Assert.Equal("", Main.Parameters.StringAt("registryStorageAccountName", "defaultValue"));
    }

    [Fact]
    public void The_route_groups_parameter_is_the_gateways_groups_setting_and_serves_every_route_by_default()
    {
        Assert.Equal("[parameters('routeGroups')]", Settings["FuncGateway__Registry__Groups"]);
        Assert.Equal("", Main.Parameters.StringAt("routeGroups", "defaultValue"));
        Assert.Equal("string", Main.Parameters.StringAt("routeGroups", "type"));
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

        Assert.Contains("format('@Microsoft.KeyVault(SecretUri={0}secrets/FuncGateway--Admin--Key)', variables('keyVaultUri'))", adminKey, StringComparison.Ordinal);

        // The key's value never appears in a setting: the expression only tests whether one was given.
        Assert.DoesNotContain("parameters('adminKey'))", adminKey.Replace("empty(parameters('adminKey'))", "", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.Equal("securestring", Main.Parameters.StringAt("adminKey", "type"));
        Assert.Equal("", Main.Parameters.StringAt("adminKey", "defaultValue"));
    }

    [Fact]
    public void The_rate_limit_counter_key_secret_is_always_a_key_vault_reference_and_never_a_value()
    {
        var setting = Settings["FuncGateway__RateLimits__KeyHashSecret"];

        Assert.Contains("format('@Microsoft.KeyVault(SecretUri={0}secrets/FuncGateway--RateLimits--KeyHashSecret)', variables('keyVaultUri'))", setting, StringComparison.Ordinal);
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

    [Fact]
    public void Key_vault_references_name_the_vault_this_deployment_creates()
    {
        // Built from the vault's name rather than read from it, so the settings evaluate before deployment; the same
        // URI as the vault reports (https://<name>.vault.azure.net/ in Azure's public cloud).
        Assert.Equal("[format('https://{0}{1}/', variables('names').keyVault, environment().suffixes.keyvaultDns)]",
            Main.Root.StringAt("variables", "keyVaultUri"));
        Assert.Equal("[parameters('name')]", Main.Module("keyVault").Single("Microsoft.KeyVault/vaults").StringAt("name"));
        Assert.Contains("variables('names').keyVault", Main.Deployment("keyVault").At("properties", "parameters", "name").GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public void The_gateways_secrets_are_secure_parameters_written_only_to_the_vault()
    {
        Assert.Equal("secureObject", Main.Parameters.StringAt("gatewaySecrets", "type"));
        Assert.Equal("secureObject", Main.Module("keyVault").Parameters.StringAt("secretValues", "type"));
        var secret = Main.Module("keyVault").OfType("Microsoft.KeyVault/vaults/secrets")
            .Single(s => s.StringAt("name")!.Contains("parameters('secretNames')", StringComparison.Ordinal));
        Assert.Contains("parameters('secretValues')", secret.StringAt("properties", "value"), StringComparison.Ordinal);
        Assert.Contains("not(empty(", secret.StringAt("condition"), StringComparison.Ordinal);

        // Only the names reach the app settings, each as a reference.
        var settings = Main.Deployment("appSettings").At("properties", "parameters", "gatewaySettings").GetRawText();
        Assert.DoesNotContain("parameters('gatewaySecrets')", settings, StringComparison.Ordinal);
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
