using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using FuncGateway.Server;
using FuncGateway.Testing;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FuncGateway.Infra.Tests;

/// <summary>
/// The gateway a deployment of <c>infra/main.bicep</c> with <c>infra/main.bicepparam</c> produces is configured: its app
/// settings (as <c>bicep snapshot</c> evaluates them) have names Azure and a shell accept, carry every secret only as
/// a Key Vault reference, and — given to the real server with the references resolved — pass the gateway's start-up
/// validation and load the routes of <c>infra/sample-routes.json</c>, which name the policies the parameters define.
/// </summary>
public sealed partial class DeployedConfigurationTests
{
    private static DeploymentSnapshot Snapshot => DeploymentSnapshot.Current;

    private static IReadOnlyDictionary<string, string> Settings => Snapshot.AppSettings;

    [Fact]
    public void The_deployment_evaluates_before_it_reaches_azure()
    {
        Assert.True(Snapshot.Run.ExitCode == 0 && Snapshot.Text.Length > 0, Snapshot.Run.Describe());
        Assert.True(Snapshot.Run.IsClean, Snapshot.Run.Describe());
        using var document = JsonDocument.Parse(Snapshot.Text);
        Assert.Empty(document.RootElement.GetProperty("diagnostics").EnumerateArray());
    }

    [Fact]
    public void Every_app_setting_name_is_one_Azure_and_a_shell_accept()
    {
        Assert.NotEmpty(Settings);
        foreach (var name in Settings.Keys)
        {
            // App Service: letters, digits, '.' and '_'. A shell's export: no '.', and no digit first.
            Assert.True(AzureSettingName().IsMatch(name), $"Azure refuses the app setting name '{name}'.");
            Assert.True(ShellVariableName().IsMatch(name), $"A shell cannot export '{name}'.");
        }
    }

    [Theory]
    [InlineData("FuncGateway__Auth__Policies__entra__Type", "Jwt")]
    [InlineData("FuncGateway__Auth__Policies__entra__Issuer", $"https://sts.windows.net/{DeploymentSnapshot.TenantId}/")]
    [InlineData("FuncGateway__Auth__Policies__entra__MetadataAddress", $"https://login.microsoftonline.com/{DeploymentSnapshot.TenantId}/.well-known/openid-configuration")]
    [InlineData("FuncGateway__Auth__Policies__entra__Audiences", "https://management.core.windows.net/")]
    [InlineData("FuncGateway__Auth__Policies__entra__ClaimHeaders__X_User_Tenant", "tid")]
    [InlineData("FuncGateway__Auth__Policies__partner_keys__Type", "ApiKey")]
    [InlineData("FuncGateway__Auth__ApiKeys__CacheSeconds", "30")]
    [InlineData("FuncGateway__Auth__Signing__ActiveKeyId", "k1")]
    [InlineData("FuncGateway__RateLimits__Policies__per_ip__Limit", "100")]
    [InlineData("FuncGateway__RateLimits__Policies__per_ip__WindowSeconds", "60")]
    [InlineData("FuncGateway__RateLimits__Policies__per_ip__Tiers__gold__Limit", "1000")]
    [InlineData("FuncGateway__Health__RefreshIntervalSeconds", "5")]
    [InlineData("FuncGateway__Cors__Policies__web__AllowedOrigins", "http://localhost:3000")]
    [InlineData("FuncGateway__Cors__Policies__web__AllowedMethods", "GET")]
    [InlineData("FuncGateway__Cors__Policies__web__MaxAgeSeconds", "600")]
    [InlineData("FuncGateway__Versioning__Sets__orders__Scheme", "Path")]
    [InlineData("FuncGateway__Versioning__Sets__orders__Versions", "1,2")]
    [InlineData("FuncGateway__Versioning__Sets__orders__Default", "2")]
    [InlineData("FuncGateway__Versioning__Sets__orders__Deprecations__1__Date", "2026-01-01")]
    [InlineData("FuncGateway__Versioning__Sets__orders__Deprecations__1__Sunset", "2026-07-01")]
    [InlineData("FuncGateway__Versioning__Sets__orders__Deprecations__1__SuccessorLink", "/api/v2/orders")]
    [InlineData("OTEL_EXPORTER_OTLP_ENDPOINT", "")]
    [InlineData("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")]
    [InlineData("OTEL_SERVICE_NAME", "")]
    public void The_sample_parameters_configure_policies_limits_cors_and_health(string name, string value)
    {
        Assert.True(Settings.TryGetValue(name, out var actual), $"The deployment does not set {name}.");
        Assert.Equal(value, actual);
    }

    [Theory]
    [InlineData("FuncGateway__Admin__Key", "FuncGateway--Admin--Key")]
    [InlineData("FuncGateway__RateLimits__KeyHashSecret", "FuncGateway--RateLimits--KeyHashSecret")]
    [InlineData("FuncGateway__Auth__Signing__Keys__k1", "FuncGateway--Auth--Signing--Keys--k1")]
    [InlineData("OTEL_EXPORTER_OTLP_HEADERS", "OTEL-EXPORTER-OTLP-HEADERS")]
    public void A_secret_reaches_the_app_only_as_a_reference_to_a_secret_the_deployment_writes_to_its_vault(string setting, string secret)
    {
        Assert.Equal(secret, DeploymentSnapshot.ReferencedSecret(Settings[setting]));
        Assert.Contains(secret, Snapshot.KeyVaultSecretNames);
        var vault = Assert.Single(Snapshot.Resources, r => r.GetProperty("type").GetString() == "Microsoft.KeyVault/vaults");
        // In the vault the deployment creates (the admin key's expression keeps the URI as the template's variable,
        // because whether a key was given is a secure parameter's secret).
        var vaultUri = Settings[setting].Contains("variables('keyVaultUri')", StringComparison.Ordinal)
            ? InfraBuild.Current.MainTemplate.Root.StringAt("variables", "keyVaultUri")!
            : Settings[setting];
        Assert.Contains(vault.GetProperty("name").GetString()!, vaultUri.Replace("variables('names').keyVault", $"'{vault.GetProperty("name").GetString()}'", StringComparison.Ordinal), StringComparison.Ordinal);
    }

    [Fact]
    public void Every_setting_that_holds_a_secret_is_a_key_vault_reference()
    {
        foreach (var (name, value) in Settings)
        {
            if (SecretSetting().IsMatch(name))
            {
                Assert.True(DeploymentSnapshot.ReferencedSecret(value) is not null, $"{name} holds a secret but is no Key Vault reference: {value}");
            }
        }
    }

    [Fact]
    public void No_secret_the_deployer_gives_appears_anywhere_in_what_is_deployed()
    {
        Assert.NotEmpty(Snapshot.Text);
        foreach (var (variable, value) in Snapshot.Secrets)
        {
            Assert.False(Snapshot.Text.Contains(value, StringComparison.Ordinal), $"The value of {variable} appears in the deployment.");
        }
    }

    [Fact]
    public void A_name_Azure_refuses_stops_the_deployment_with_a_message_naming_it()
    {
        var output = FailedSnapshotOutput("""
            using 'main.bicep'
            param baseName = 'fgw-bad'
            param rateLimitPolicies = {
              'per-ip': {
                Limit: 100
              }
            }
            """);

        Assert.Contains("App setting names may hold only letters, digits and _", output, StringComparison.Ordinal);
        Assert.Contains("FuncGateway__RateLimits__Policies__per-ip__Limit", output, StringComparison.Ordinal);
    }

    [Fact]
    public void A_secret_given_in_a_configuration_object_stops_the_deployment_before_its_value_is_stored()
    {
        // authPolicies, gatewaySettings and the other objects are plain parameters: their values are kept in the
        // deployment's history. A Basic user's hash or a Consul token there would also become a plain app setting.
        var output = FailedSnapshotOutput("""
            using 'main.bicep'
            param baseName = 'fgw-plain'
            param rateLimitKeyHashSecret = 'counter-key-secret-counter-key-secret-0123'
            param authPolicies = {
              basic: {
                Type: 'Basic'
                Users: {
                  alice: 'pbkdf2-sha256:100000:c2FsdA==:aGFzaA=='
                }
              }
            }
            param gatewaySettings = {
              Discovery: {
                Consul: {
                  Token: 'consul-acl-token'
                }
              }
              Storage: {
                ConnectionString: 'DefaultEndpointsProtocol=https;AccountName=fgw;AccountKey=c2VjcmV0LWFjY291bnQta2V5'
              }
            }
            """);

        Assert.Contains("These settings hold secrets", output, StringComparison.Ordinal);
        Assert.Contains("FuncGateway__Auth__Policies__basic__Users__alice", output, StringComparison.Ordinal);
        Assert.Contains("FuncGateway__Discovery__Consul__Token", output, StringComparison.Ordinal);
        Assert.Contains("FuncGateway__Storage__ConnectionString", output, StringComparison.Ordinal);
        Assert.Contains("gatewaySecretNames", output, StringComparison.Ordinal);
    }

    [Fact]
    public void A_configured_setting_that_a_parameter_also_writes_stops_the_deployment_naming_it()
    {
        // The fixed settings are written last: before, the value given in gatewaySettings was dropped without a word.
        var output = FailedSnapshotOutput("""
            using 'main.bicep'
            param baseName = 'fgw-shadow'
            param rateLimitKeyHashSecret = 'counter-key-secret-counter-key-secret-0123'
            param gatewaySettings = {
              Registry: {
                Groups: 'web'
              }
              forwarding: {
                connectTimeoutSeconds: '0.5'
              }
              Discovery: {
                Consul: {
                  Address: 'http://consul.internal:8500'
                }
              }
            }
            """);

        Assert.Contains("These settings have parameters of their own", output, StringComparison.Ordinal);
        Assert.Contains("FuncGateway__Registry__Groups", output, StringComparison.Ordinal);
        Assert.Contains("FuncGateway__forwarding__connectTimeoutSeconds", output, StringComparison.Ordinal);
        Assert.DoesNotContain("FuncGateway__Discovery__Consul__Address", output, StringComparison.Ordinal);
    }

    [Fact]
    public void The_timeouts_take_fractional_seconds_as_strings_and_whole_seconds_as_numbers()
    {
        // They were int parameters: the gateway takes 0.5, but no deployment could write it (and gatewaySettings may not).
        var settings = SnapshotSettings("""
            using 'main.bicep'
            param baseName = 'fgw-fractions'
            param rateLimitKeyHashSecret = 'counter-key-secret-counter-key-secret-0123'
            param forwardingConnectTimeoutSeconds = '0.5'
            param forwardingDefaultTimeoutSeconds = '29.5'
            param registryStartupWaitSeconds = '0.25'
            param registryReadTimeoutSeconds = 4
            param registryRefreshIntervalSeconds = 2
            """);

        Assert.Equal("0.5", settings["FuncGateway__Forwarding__ConnectTimeoutSeconds"]);
        Assert.Equal("29.5", settings["FuncGateway__Forwarding__DefaultTimeoutSeconds"]);
        Assert.Equal("0.25", settings["FuncGateway__Registry__StartupWaitSeconds"]);
        Assert.Equal("4", settings["FuncGateway__Registry__ReadTimeoutSeconds"]);
        Assert.Equal("2", settings["FuncGateway__Registry__RefreshIntervalSeconds"]);
    }

    [Theory]
    [InlineData("forwardingConnectTimeoutSeconds", "'0.09'", "from 0.1 to 300")]
    [InlineData("forwardingDefaultTimeoutSeconds", "'230.5'", "from 0.001 to 230")]
    [InlineData("forwardingDefaultTimeoutSeconds", "0", "from 0.001 to 230")]
    [InlineData("registryReadTimeoutSeconds", "'0,5'", "from 1 to 300")]
    [InlineData("registryStartupWaitSeconds", "'-1'", "from 0 to 120")]
    [InlineData("registryRefreshIntervalSeconds", "'0.1'", "from 0.2 to 3600")]
    public void A_timeout_the_gateway_would_refuse_at_start_up_stops_the_deployment_naming_its_parameter(string parameter, string value, string range)
    {
        var output = FailedSnapshotOutput($"""
            using 'main.bicep'
            param baseName = 'fgw-fractions'
            param rateLimitKeyHashSecret = 'counter-key-secret-counter-key-secret-0123'
            param {parameter} = {value}
            """);

        Assert.Contains($"{parameter}: '{value.Trim('\'')}' is not a number of seconds {range}", output, StringComparison.Ordinal);
    }

    [Fact]
    public void A_registration_key_is_a_key_vault_reference_and_its_pools_a_plain_setting()
    {
        var settings = SnapshotSettings("""
            using 'main.bicep'
            param baseName = 'fgw-registration'
            param rateLimitKeyHashSecret = 'counter-key-secret-counter-key-secret-0123'
            param discoveryRegistrationKeys = {
              orders_app: {
                Pools: ['orders', 'orders-eu']
              }
            }
            param gatewaySecretNames = ['Discovery__Registration__Keys__orders_app__Key']
            param gatewaySecrets = {
              Discovery__Registration__Keys__orders_app__Key: 'orders-registration-key-0123456789abcdef'
            }
            """);

        Assert.Equal("orders,orders-eu", settings["FuncGateway__Discovery__Registration__Keys__orders_app__Pools"]);
        Assert.Equal("FuncGateway--Discovery--Registration--Keys--orders-app--Key",
            DeploymentSnapshot.ReferencedSecret(settings["FuncGateway__Discovery__Registration__Keys__orders_app__Key"]));
    }

    [Fact]
    public void A_registration_key_given_with_its_pools_stops_the_deployment_before_its_value_is_stored()
    {
        var output = FailedSnapshotOutput("""
            using 'main.bicep'
            param baseName = 'fgw-plain'
            param rateLimitKeyHashSecret = 'counter-key-secret-counter-key-secret-0123'
            param discoveryRegistrationKeys = {
              orders_app: {
                Pools: 'orders'
                Key: 'orders-registration-key-0123456789abcdef'
              }
            }
            """);

        Assert.Contains("These settings hold secrets", output, StringComparison.Ordinal);
        Assert.Contains("FuncGateway__Discovery__Registration__Keys__orders_app__Key", output, StringComparison.Ordinal);
        Assert.DoesNotContain("FuncGateway__Discovery__Registration__Keys__orders_app__Pools", output, StringComparison.Ordinal);
    }

    [Fact]
    public void The_open_telemetry_sdks_own_settings_are_written_as_app_settings_of_their_names()
    {
        // OTEL_RESOURCE_ATTRIBUTES and OTEL_BSP_* are read by the SDK from the app settings (docs/observability.md);
        // a deployment writes the whole list, so one set by hand in the portal would be gone after the next.
        var settings = SnapshotSettings("""
            using 'main.bicep'
            param baseName = 'fgw-otel'
            param rateLimitKeyHashSecret = 'counter-key-secret-counter-key-secret-0123'
            param otelSettings = {
              OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=prod,team=platform'
              OTEL_BSP_SCHEDULE_DELAY: 200
            }
            """);

        Assert.Equal("deployment.environment=prod,team=platform", settings["OTEL_RESOURCE_ATTRIBUTES"]);
        Assert.Equal("200", settings["OTEL_BSP_SCHEDULE_DELAY"]);
    }

    [Fact]
    public void An_open_telemetry_setting_with_a_parameter_of_its_own_or_credentials_stops_the_deployment()
    {
        var output = FailedSnapshotOutput("""
            using 'main.bicep'
            param baseName = 'fgw-otel'
            param rateLimitKeyHashSecret = 'counter-key-secret-counter-key-secret-0123'
            param otelSettings = {
              OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'api-key=collector-credential'
              OTEL_SERVICE_NAME: 'orders-gateway'
              FuncGateway__Admin__Key: 'not-an-otel-setting'
            }
            """);

        Assert.Contains("otelSettings takes the OpenTelemetry SDK's other OTEL_ settings only", output, StringComparison.Ordinal);
        Assert.Contains("OTEL_EXPORTER_OTLP_TRACES_HEADERS", output, StringComparison.Ordinal);
        Assert.Contains("OTEL_SERVICE_NAME", output, StringComparison.Ordinal);
        Assert.Contains("FuncGateway__Admin__Key", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_jwks_document_given_as_an_object_is_one_setting_holding_its_json_which_the_gateway_accepts()
    {
        // docs/authentication.md: Jwks is "a static JWKS document (JSON)". Written in Bicep as the object it is, the
        // template used to take it apart like a section, and the deployment failed inside ARM's join().
        using var rsa = System.Security.Cryptography.RSA.Create(2048);
        var key = rsa.ExportParameters(includePrivateParameters: false);
        var n = Base64Url(key.Modulus!);
        var e = Base64Url(key.Exponent!);
        var settings = SnapshotSettings($$"""
            using 'main.bicep'
            param baseName = 'fgw-jwks'
            param rateLimitKeyHashSecret = 'counter-key-secret-counter-key-secret-0123'
            param authPolicies = {
              partner: {
                Type: 'Jwt'
                Issuer: 'https://issuer.example'
                Audiences: [ 'api://orders' ]
                Jwks: {
                  keys: [
                    { kty: 'RSA', use: 'sig', kid: 'partner-1', n: '{{n}}', e: '{{e}}' }
                  ]
                }
              }
            }
            """);

        var jwks = JsonDocument.Parse(settings["FuncGateway__Auth__Policies__partner__Jwks"]).RootElement.GetProperty("keys")[0];
        Assert.Equal("partner-1", jwks.GetProperty("kid").GetString());
        Assert.Equal(n, jwks.GetProperty("n").GetString());
        Assert.DoesNotContain(settings.Keys, name => name.StartsWith("FuncGateway__Auth__Policies__partner__Jwks__", StringComparison.Ordinal));

        // The gateway's start-up validation reads the policy, its key set included (a bad one stops the start).
        await using var azurite = await AzuriteInstance.StartAsync();
        var configuration = settings
            .Where(s => s.Key.StartsWith("FuncGateway__Auth__", StringComparison.Ordinal))
            .ToDictionary(s => s.Key.Replace("__", ":", StringComparison.Ordinal), s => (string?)s.Value);
        configuration["FuncGateway:Storage:ConnectionString"] = azurite.ConnectionString;
        configuration["FuncGateway:RateLimits:KeyHashSecret"] = "counter-key-secret-counter-key-secret-0123";
        var app = GatewayServer.Build(["--urls", "http://127.0.0.1:0"], builder =>
        {
            builder.Configuration.AddInMemoryCollection(configuration);
            builder.Logging.ClearProviders();
        });
        await using (app)
        {
            await app.StartAsync();
            await app.StopAsync();
        }
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>Runs <c>bicep snapshot</c> on a copy of infra/ with <paramref name="parameters"/>, asserts that it succeeds, and returns the app settings.</summary>
    private static Dictionary<string, string> SnapshotSettings(string parameters)
    {
        var folder = Path.Combine(Path.GetTempPath(), "funcgateway-accepted-" + Guid.NewGuid().ToString("N"));
        try
        {
            DeploymentSnapshot.CopyFolder(RepositoryRoot.Combine(InfraBuild.InfraFolder), folder);
            File.WriteAllText(Path.Combine(folder, "accepted.bicepparam"), parameters);

            var run = BicepCli.RunIn(folder, new Dictionary<string, string>(),
                "snapshot", "accepted.bicepparam", "--mode", "overwrite", "--subscription-id", DeploymentSnapshot.SubscriptionId,
                "--resource-group", DeploymentSnapshot.ResourceGroup, "--location", "westeurope");
            Assert.True(run.ExitCode == 0, run.Describe());

            using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "accepted.snapshot.json")));
            var appSettings = document.RootElement.GetProperty("predictedResources").EnumerateArray()
                .Single(r => r.GetProperty("type").GetString() == "Microsoft.Web/sites/config" && r.GetProperty("name").GetString()!.EndsWith("/appsettings", StringComparison.Ordinal));
            return appSettings.GetProperty("properties").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? "", StringComparer.Ordinal);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>Runs <c>bicep snapshot</c> on a copy of infra/ with <paramref name="parameters"/>, asserts that it fails, and returns what it printed.</summary>
    private static string FailedSnapshotOutput(string parameters)
    {
        var folder = Path.Combine(Path.GetTempPath(), "funcgateway-refused-" + Guid.NewGuid().ToString("N"));
        try
        {
            DeploymentSnapshot.CopyFolder(RepositoryRoot.Combine(InfraBuild.InfraFolder), folder);
            File.WriteAllText(Path.Combine(folder, "refused.bicepparam"), parameters);

            var run = BicepCli.RunIn(folder, new Dictionary<string, string>(),
                "snapshot", "refused.bicepparam", "--mode", "overwrite", "--subscription-id", DeploymentSnapshot.SubscriptionId,
                "--resource-group", DeploymentSnapshot.ResourceGroup, "--location", "westeurope");

            Assert.NotEqual(0, run.ExitCode);
            return run.Output + run.Errors;
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task The_gateway_accepts_exactly_the_deployed_settings_and_loads_the_routes_that_name_their_policies()
    {
        await using var azurite = await AzuriteInstance.StartAsync();
        var configuration = ResolveAsAzureWould(azurite.ConnectionString);

        // The deployment guide's route file, imported as the guide does (there with --table-service-uri).
        Assert.Equal("Gateway", configuration["FuncGateway:Storage:TablePrefix"]);
        var (exitCode, output) = Fgw.Run(null, "import", RepositoryRoot.Combine("infra/sample-routes.json"), "--connection-string", azurite.ConnectionString);
        Assert.True(exitCode == 0, $"fgw import exited {exitCode}:{Environment.NewLine}{output}");

        var app = GatewayServer.Build(["--urls", "http://127.0.0.1:0"], builder =>
        {
            builder.Configuration.AddInMemoryCollection(configuration);
            builder.Logging.ClearProviders();
        });
        await using (app)
        {
            // Start-up validation (ValidateOnStart) of every section: a setting the gateway refuses throws here.
            await app.StartAsync();
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = new Uri(address) };
            var adminKey = configuration["FuncGateway:Admin:Key"]!;

            // Ready once the first snapshot is loaded (healthz never waits for it).
            var deadline = DateTime.UtcNow.AddSeconds(60);
            HttpStatusCode readiness;
            do
            {
                using var ready = await client.GetAsync(new Uri("/_gateway/healthz", UriKind.Relative));
                readiness = ready.StatusCode;
                if (readiness != HttpStatusCode.OK)
                {
                    await Task.Delay(200);
                }
            }
            while (readiness != HttpStatusCode.OK && DateTime.UtcNow < deadline);
            Assert.True(readiness == HttpStatusCode.OK, "Not ready: " + (await AdminGetAsync(client, adminKey, "status")).GetRawText());

            var rejected = await AdminGetAsync(client, adminKey, "rejected");
            Assert.True(rejected.GetProperty("rejected").GetArrayLength() == 0, "Rejected rows: " + rejected.GetRawText());
            var routes = (await AdminGetAsync(client, adminKey, "routes")).GetProperty("routes").EnumerateArray()
                .ToDictionary(r => r.GetProperty("id").GetString()!, r => r);
            Assert.Equal(["httpbin", "httpbin-public"], routes.Keys.Order(StringComparer.Ordinal));
            Assert.Equal(["entra", "partner_keys"], routes["httpbin"].GetProperty("auth").EnumerateArray().Select(a => a.GetString()));

            // The policies are live: the protected route asks for a bearer token or an API key of partner_keys.
            using var anonymous = await client.GetAsync(new Uri("/httpbin/get", UriKind.Relative));
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
            var challenges = string.Join(" | ", anonymous.Headers.WwwAuthenticate.Select(h => h.ToString()));
            Assert.Contains("Bearer", challenges, StringComparison.Ordinal);
            Assert.Contains("ApiKey header=\"X-API-Key\"", challenges, StringComparison.Ordinal);

            // The CORS policy is live too: the public route's preflight from the sample origin is answered by the
            // gateway (the route lists only GET), and one from another origin is granted nothing.
            foreach (var (origin, granted) in new[] { ("http://localhost:3000", true), ("https://elsewhere.example", false) })
            {
                using var preflight = new HttpRequestMessage(HttpMethod.Options, "/public/get");
                preflight.Headers.Add("Origin", origin);
                preflight.Headers.Add("Access-Control-Request-Method", "GET");
                using var answer = await client.SendAsync(preflight);
                Assert.Equal(HttpStatusCode.NoContent, answer.StatusCode);
                Assert.Equal(granted ? [origin] : [], answer.Headers.TryGetValues("Access-Control-Allow-Origin", out var values) ? values : []);
            }
        }
    }

    /// <summary>
    /// The deployed app settings as the app would read them: Key Vault references resolved to the secrets the deployer
    /// gave, <c>__</c> read as <c>:</c> (what the environment variable provider does). Three values only Azure knows are
    /// stood in for: the storage endpoint (Azurite, by connection string), the app's host name, and Application
    /// Insights. Any other value still unknown fails the test.
    /// </summary>
    private static Dictionary<string, string?> ResolveAsAzureWould(string storageConnectionString)
    {
        var vault = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["FuncGateway--Admin--Key"] = Snapshot.Secrets["FUNCGATEWAY_ADMIN_KEY"],
            ["FuncGateway--RateLimits--KeyHashSecret"] = Snapshot.Secrets["FUNCGATEWAY_RATE_LIMIT_KEY_HASH_SECRET"],
            ["FuncGateway--Auth--Signing--Keys--k1"] = Snapshot.Secrets["FUNCGATEWAY_SIGNING_KEY"],
            ["OTEL-EXPORTER-OTLP-HEADERS"] = Snapshot.Secrets["FUNCGATEWAY_OTLP_HEADERS"],

            // The sample deploys without the cache's Redis tier: the vault holds no connection string, the setting is empty.
            ["FuncGateway--Cache--RedisConnectionString"] = "",
        };
        var knownOnlyInAzure = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["FuncGateway__Storage__TableServiceUri"] = null,
            ["FuncGateway__Forwarding__PublicHosts"] = "127.0.0.1",
            ["APPLICATIONINSIGHTS_CONNECTION_STRING"] = null,
        };

        var resolved = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in Settings)
        {
            string? text;
            if (DeploymentSnapshot.ReferencedSecret(value) is { } secret)
            {
                Assert.True(vault.TryGetValue(secret, out var secretValue), $"{name} refers to the secret {secret}, which this test has no value for.");
                text = secretValue;
            }
            else if (DeploymentSnapshot.IsExpression(value))
            {
                Assert.True(knownOnlyInAzure.TryGetValue(name, out text), $"{name} is only known at deployment ({value}).");
            }
            else
            {
                text = value;
            }

            resolved[name.Replace("__", ":", StringComparison.Ordinal)] = text;
        }

        resolved["FuncGateway:Storage:ConnectionString"] = storageConnectionString;
        return resolved;
    }

    private static async Task<JsonElement> AdminGetAsync(HttpClient client, string adminKey, string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/_gateway/" + path);
        request.Headers.Add("X-Admin-Key", adminKey);
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    [GeneratedRegex("^[A-Za-z0-9._]+$")]
    private static partial Regex AzureSettingName();

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex ShellVariableName();

    // Settings whose values are secrets (README: SymmetricKeys, Basic Users, signing keys, the admin key, the counter key,
    // the cache's Redis connection string, the OpenTelemetry collector's headers).
    [GeneratedRegex("(__SymmetricKeys__|__Users__|^FuncGateway__Auth__Signing__Keys__|^FuncGateway__Admin__Key$|^FuncGateway__RateLimits__KeyHashSecret$|^FuncGateway__Cache__RedisConnectionString$|^OTEL_EXPORTER_OTLP_HEADERS$)")]
    private static partial Regex SecretSetting();
}
