using System.Text.Json;
using System.Text.RegularExpressions;

namespace FuncGateway.Infra.Tests;

/// <summary>The data-plane roles of the app's identity: what it needs, on what it needs it, and nothing more.</summary>
public sealed partial class RoleAssignmentTemplateTests
{
    private const string StorageBlobDataOwner = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b";
    private const string StorageTableDataContributor = "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3";
    private const string MonitoringMetricsPublisher = "3913510d-42f4-4e42-8a64-420c390055eb";
    private const string KeyVaultSecretsUser = "4633458b-17de-408a-b874-0445c86b69e6";

    private static readonly ArmTemplate Main = InfraBuild.Current.MainTemplate;
    private static readonly ArmTemplate Module = Main.Module("roleAssignments");

    [Theory]
    [InlineData(StorageBlobDataOwner, "Microsoft.Storage/storageAccounts", "storageAccountName")]
    [InlineData(StorageTableDataContributor, "Microsoft.Storage/storageAccounts", "storageAccountName")]
    [InlineData(MonitoringMetricsPublisher, "Microsoft.Insights/components", "appInsightsName")]
    [InlineData(KeyVaultSecretsUser, "Microsoft.KeyVault/vaults", "keyVaultName")]
    public void The_apps_identity_holds_the_role_on_the_resource(string roleId, string scopeType, string scopeParameter)
    {
        var scope = $"[resourceId('{scopeType}', parameters('{scopeParameter}'))]";
        var assignment = Assignments().Single(a => a.RoleId == roleId && a.Resource.StringAt("scope") == scope).Resource;

        Assert.Equal("[parameters('principalId')]", assignment.StringAt("properties", "principalId"));
        Assert.Equal("ServicePrincipal", assignment.StringAt("properties", "principalType"));
    }

    [Fact]
    public void The_principal_is_the_function_apps_system_assigned_identity()
    {
        var principalId = Main.ModuleArgument("roleAssignments", "principalId").GetString();

        Assert.Contains("'functionApp'", principalId, StringComparison.Ordinal);
        Assert.EndsWith(".outputs.principalId.value]", principalId, StringComparison.Ordinal);
    }

    [Fact]
    public void No_role_beyond_the_four_the_app_needs()
    {
        // Not Storage Queue Data Contributor: the app has no queue or blob trigger and no Durable Functions, the
        // only users of queues in host storage. Not a management role: those grant no data access.
        Assert.Equal(
            new[] { StorageBlobDataOwner, StorageTableDataContributor, MonitoringMetricsPublisher, KeyVaultSecretsUser }.Order(),
            Assignments().Select(a => a.RoleId).Distinct().Order());
    }

    [Fact]
    public void A_gateway_reading_another_accounts_registry_may_read_and_write_its_tables_and_nothing_else_there()
    {
        // Route groups: a second gateway (mobile) deployed with registryStorageAccountName reads the first one's tables.
        var onRegistry = Assignments().Where(a => a.Resource.StringAt("scope") == "[resourceId('Microsoft.Storage/storageAccounts', parameters('registryStorageAccountName'))]").ToList();

        var assignment = Assert.Single(onRegistry);
        Assert.Equal(StorageTableDataContributor, assignment.RoleId);
        Assert.Equal("[not(empty(parameters('registryStorageAccountName')))]", assignment.Resource.StringAt("condition"));
        Assert.Equal("[parameters('principalId')]", assignment.Resource.StringAt("properties", "principalId"));
        Assert.Equal("[parameters('registryStorageAccountName')]", Main.ModuleArgument("roleAssignments", "registryStorageAccountName").GetString());
    }

    [Fact]
    public void The_key_vault_role_exists_only_with_a_key_vault()
    {
        var assignment = Assignments().Single(a => a.RoleId == KeyVaultSecretsUser).Resource;

        Assert.Equal("[not(empty(parameters('keyVaultName')))]", assignment.StringAt("condition"));
        // Bicep compiles a conditional module argument to one expression: the vault's name or ''.
        var keyVaultName = Main.Deployment("roleAssignments").At("properties", "parameters", "keyVaultName").GetRawText();
        Assert.Contains("if(parameters('deployKeyVault'), createObject('value', variables('names').keyVault), createObject('value', ''))", keyVaultName, StringComparison.Ordinal);
    }

    [Fact]
    public void Key_vault_access_is_rbac_only()
    {
        var vault = Main.Module("keyVault").Single("Microsoft.KeyVault/vaults");

        Assert.True(vault.At("properties", "enableRbacAuthorization").GetBoolean());
        Assert.False(vault.At("properties").TryGetProperty("accessPolicies", out _));
        Assert.Equal("[parameters('deployKeyVault')]", Main.Deployment("keyVault").StringAt("condition"));
    }

    private static IEnumerable<(string RoleId, JsonElement Resource)> Assignments() =>
        Module.OfType("Microsoft.Authorization/roleAssignments").Select(a => (RoleIdOf(a), a));

    // Bicep compiles the role id either as a literal or as variables('roleIds').<name>; resolve the latter.
    private static string RoleIdOf(JsonElement assignment)
    {
        var expression = assignment.StringAt("properties", "roleDefinitionId")!;
        Assert.StartsWith("[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', ", expression, StringComparison.Ordinal);
        if (Guid().Match(expression) is { Success: true } literal)
        {
            return literal.Value;
        }

        var variable = VariableReference().Match(expression);
        Assert.True(variable.Success, $"Cannot read the role id from {expression}");
        return Module.Variable(variable.Groups["name"].Value, variable.Groups["property"].Value)!;
    }

    [GeneratedRegex("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")]
    private static partial Regex Guid();

    [GeneratedRegex(@"variables\('(?<name>\w+)'\)\.(?<property>\w+)")]
    private static partial Regex VariableReference();
}
