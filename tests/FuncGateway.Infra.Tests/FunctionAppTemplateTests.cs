using System.Text.Json;

namespace FuncGateway.Infra.Tests;

/// <summary>The Function App and its plan, as <c>infra/main.bicep</c> compiles.</summary>
public sealed class FunctionAppTemplateTests
{
    private static readonly ArmTemplate Main = InfraBuild.Current.MainTemplate;
    private static readonly ArmTemplate Module = Main.Module("functionApp");
    private static readonly JsonElement Site = Module.Single("Microsoft.Web/sites");

    [Fact]
    public void The_plan_is_Flex_Consumption_on_Linux()
    {
        var plan = Module.Single("Microsoft.Web/serverfarms");

        Assert.Equal("FC1", plan.StringAt("sku", "name"));
        Assert.Equal("FlexConsumption", plan.StringAt("sku", "tier"));
        Assert.True(plan.At("properties", "reserved").GetBoolean(), "reserved: true is what makes the plan Linux");
        Assert.Contains("Microsoft.Web/serverfarms", Site.StringAt("properties", "serverFarmId"), StringComparison.Ordinal);
    }

    [Fact]
    public void The_app_runs_the_dotnet_10_isolated_worker_on_Linux()
    {
        Assert.Equal("functionapp,linux", Site.StringAt("kind"));
        Assert.Equal("dotnet-isolated", Site.StringAt("properties", "functionAppConfig", "runtime", "name"));
        Assert.Equal("10.0", Site.StringAt("properties", "functionAppConfig", "runtime", "version"));
    }

    [Fact]
    public void The_app_has_a_system_assigned_identity()
    {
        Assert.Equal("SystemAssigned", Site.StringAt("identity", "type"));
        var principalId = Module.Outputs.StringAt("principalId", "value")!;
        Assert.Contains("resourceId('Microsoft.Web/sites', parameters('appName'))", principalId, StringComparison.Ordinal);
        Assert.EndsWith(".identity.principalId]", principalId, StringComparison.Ordinal);
    }

    [Fact]
    public void The_app_answers_https_only_with_tls_1_2_or_later()
    {
        Assert.True(Site.At("properties", "httpsOnly").GetBoolean());
        Assert.Equal("1.2", Site.StringAt("properties", "siteConfig", "minTlsVersion"));
        Assert.Equal("1.2", Site.StringAt("properties", "siteConfig", "scmMinTlsVersion"));
    }

    [Fact]
    public void The_hosts_own_cors_is_empty_so_the_gateways_policies_decide()
    {
        // docs/cors.md: origins in the Function App's CORS setting make the host answer preflights and add its own
        // headers around the gateway's; every deployment writes it empty.
        Assert.Equal("[]", Site.At("properties", "siteConfig", "cors", "allowedOrigins").GetRawText());
        Assert.False(Site.At("properties", "siteConfig", "cors", "supportCredentials").GetBoolean());
    }

    [Fact]
    public void Ftp_and_basic_publishing_credentials_are_off()
    {
        Assert.Equal("Disabled", Site.StringAt("properties", "siteConfig", "ftpsState"));

        var policies = Module.OfType("Microsoft.Web/sites/basicPublishingCredentialsPolicies")
            .ToDictionary(p => p.StringAt("name")!, p => p.At("properties", "allow").GetBoolean());
        Assert.Equal(2, policies.Count);
        Assert.Contains(policies, p => p.Key.EndsWith("'ftp')]", StringComparison.Ordinal) && !p.Value);
        Assert.Contains(policies, p => p.Key.EndsWith("'scm')]", StringComparison.Ordinal) && !p.Value);
    }

    [Fact]
    public void The_deployment_package_is_read_with_the_apps_identity()
    {
        var storage = Site.At("properties", "functionAppConfig", "deployment", "storage");

        Assert.Equal("blobContainer", storage.StringAt("type"));
        Assert.Equal("SystemAssignedIdentity", storage.StringAt("authentication", "type"));
        Assert.False(storage.At("authentication").TryGetProperty("storageAccountConnectionStringName", out _));
        Assert.Contains("deploymentContainerUrl", Main.ModuleArgument("functionApp", "deploymentContainerUrl").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("alwaysReadyInstanceCount")]
    [InlineData("maximumInstanceCount")]
    [InlineData("instanceMemoryMB")]
    public void Scale_settings_are_deployment_parameters(string parameter)
    {
        // From main.bicep's parameter, through the module, to the site.
        Assert.True(Main.Parameters.TryGetProperty(parameter, out _), $"main.bicep has no parameter '{parameter}'");
        Assert.Equal($"[parameters('{parameter}')]", Main.ModuleArgument("functionApp", parameter).GetString());

        var scale = Site.At("properties", "functionAppConfig", "scaleAndConcurrency");
        var value = parameter == "alwaysReadyInstanceCount"
            ? scale.At("alwaysReady").EnumerateArray().Single(g => g.StringAt("name") == "http").At("instanceCount")
            : scale.At(parameter);
        Assert.Equal($"[parameters('{parameter}')]", value.GetString());
    }

    [Fact]
    public void The_http_concurrency_per_instance_is_a_deployment_parameter_left_to_the_platform_by_default()
    {
        // A gateway request mostly waits on its upstream: an operator tunes how many share one instance before the
        // platform scales out (Flex Consumption's default is 16 at 2048 MB).
        Assert.Equal(0, Main.Parameters.At("httpPerInstanceConcurrency", "defaultValue").GetInt32());
        Assert.Equal(1000, Main.Parameters.At("httpPerInstanceConcurrency", "maxValue").GetInt32());
        Assert.Equal("[parameters('httpPerInstanceConcurrency')]", Main.ModuleArgument("functionApp", "httpPerInstanceConcurrency").GetString());
        Assert.Equal(
            "[if(greater(parameters('httpPerInstanceConcurrency'), 0), createObject('http', createObject('perInstanceConcurrency', parameters('httpPerInstanceConcurrency'))), null())]",
            Site.StringAt("properties", "functionAppConfig", "scaleAndConcurrency", "triggers"));
    }

    [Fact]
    public void The_maximum_instance_count_stays_within_what_Flex_Consumption_allows()
    {
        var maximum = Main.Parameters.At("maximumInstanceCount");

        Assert.True(maximum.At("minValue").GetInt32() >= 1);
        Assert.Equal(1000, maximum.At("maxValue").GetInt32());
    }
}
