using System.Text.Json;

namespace FuncGateway.Infra.Tests;

/// <summary>The storage account: identity-only access to host storage, the deployment container and the registry.</summary>
public sealed class StorageTemplateTests
{
    private static readonly ArmTemplate Main = InfraBuild.Current.MainTemplate;
    private static readonly ArmTemplate Module = Main.Module("storage");
    private static readonly JsonElement Account = Module.Single("Microsoft.Storage/storageAccounts");

    [Fact]
    public void Account_keys_are_off_so_only_identities_get_in()
    {
        Assert.False(Account.At("properties", "allowSharedKeyAccess").GetBoolean());
        Assert.True(Account.At("properties", "defaultToOAuthAuthentication").GetBoolean());
    }

    [Fact]
    public void Nothing_is_public_and_connections_need_tls_1_2()
    {
        Assert.False(Account.At("properties", "allowBlobPublicAccess").GetBoolean());
        Assert.Equal("TLS1_2", Account.StringAt("properties", "minimumTlsVersion"));
        Assert.True(Account.At("properties", "supportsHttpsTrafficOnly").GetBoolean());
        Assert.Equal("None", Module.Single("Microsoft.Storage/storageAccounts/blobServices/containers").StringAt("properties", "publicAccess"));
    }

    [Fact]
    public void The_deployment_container_is_the_one_the_app_deploys_from()
    {
        var container = Module.Single("Microsoft.Storage/storageAccounts/blobServices/containers");

        Assert.Contains("parameters('deploymentContainerName')", container.StringAt("name"), StringComparison.Ordinal);
        Assert.Contains("deploymentContainer", Module.Outputs.StringAt("deploymentContainerUrl", "value"), StringComparison.Ordinal);
    }

    [Fact]
    public void The_registry_tables_follow_the_table_prefix()
    {
        var tables = Main.ModuleArgument("storage", "tableNames").EnumerateArray().Select(t => t.GetString()).ToList();

        Assert.Equal(["[format('{0}Routes', parameters('tablePrefix'))]", "[format('{0}Upstreams', parameters('tablePrefix'))]", "[format('{0}Schemas', parameters('tablePrefix'))]"], tables);
        Assert.Equal("Gateway", Main.Parameters.StringAt("tablePrefix", "defaultValue"));
    }

    [Fact]
    public void No_resource_or_output_reads_account_keys_or_makes_a_sas()
    {
        var template = Main.Root.GetRawText();

        foreach (var function in new[] { "listKeys(", "listAccountSas(", "listServiceSas(", "AccountKey=" })
        {
            Assert.DoesNotContain(function, template, StringComparison.OrdinalIgnoreCase);
        }
    }
}
