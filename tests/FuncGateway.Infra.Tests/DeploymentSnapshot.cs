using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using FuncGateway.Testing;

namespace FuncGateway.Infra.Tests;

/// <summary>
/// What <c>az deployment group create -g &lt;rg&gt; --template-file infra/main.bicep --parameters infra/main.bicepparam</c>
/// would deploy, evaluated offline by <c>bicep snapshot</c>: every resource with its properties computed from the
/// parameters, so app setting names and values are literal. What only Azure knows at deployment time (a resource's
/// endpoints, a secure parameter's value) stays an ARM expression (<c>[reference(...)]</c>).
/// </summary>
/// <remarks>
/// The deployer's environment is that of the deployment guide (README "Deploying to Azure"): every variable
/// <c>infra/main.bicepparam</c> reads is set, the secrets to fresh random values (<see cref="Secrets"/>).
/// </remarks>
internal sealed partial class DeploymentSnapshot
{
    public const string SubscriptionId = "00000000-0000-0000-0000-0000000000aa";
    public const string ResourceGroup = "rg-funcgateway";
    public const string TenantId = "11111111-2222-3333-4444-555555555555";

    private static readonly Lazy<DeploymentSnapshot> Instance = new(() => new DeploymentSnapshot());

    private DeploymentSnapshot()
    {
        Secrets = new Dictionary<string, string>
        {
            ["FUNCGATEWAY_ADMIN_KEY"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
            ["FUNCGATEWAY_RATE_LIMIT_KEY_HASH_SECRET"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
            ["FUNCGATEWAY_SIGNING_KEY"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
            ["FUNCGATEWAY_OTLP_HEADERS"] = "api-key=" + Convert.ToHexString(RandomNumberGenerator.GetBytes(16)),
        };
        Environment = new Dictionary<string, string>(Secrets) { ["FUNCGATEWAY_ENTRA_TENANT_ID"] = TenantId };

        // bicep snapshot writes main.snapshot.json beside the parameters file: work on a copy of infra/.
        var folder = Path.Combine(Path.GetTempPath(), "funcgateway-snapshot-" + Guid.NewGuid().ToString("N"));
        try
        {
            CopyFolder(RepositoryRoot.Combine(InfraBuild.InfraFolder), folder);
            Run = BicepCli.RunIn(folder, Environment,
                "snapshot", "main.bicepparam", "--mode", "overwrite",
                "--subscription-id", SubscriptionId, "--resource-group", ResourceGroup, "--tenant-id", TenantId, "--location", "westeurope");
            var output = Path.Combine(folder, "main.snapshot.json");
            Text = File.Exists(output) ? File.ReadAllText(output) : "";
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }

        if (Text.Length == 0)
        {
            Resources = [];
            AppSettings = new Dictionary<string, string>();
            return;
        }

        using var document = JsonDocument.Parse(Text);
        Resources = document.RootElement.GetProperty("predictedResources").EnumerateArray().Select(r => r.Clone()).ToList();
        var settings = Resources.Where(r => r.GetProperty("type").GetString() == "Microsoft.Web/sites/config" &&
                                            r.GetProperty("name").GetString()!.EndsWith("/appsettings", StringComparison.Ordinal)).ToList();
        Assert.True(settings.Count == 1, $"Expected one appsettings resource in the snapshot, found {settings.Count}.");
        var properties = settings[0].GetProperty("properties");
        Assert.True(properties.ValueKind == JsonValueKind.Object,
            "The app settings did not evaluate to an object before deployment (keep their names free of runtime values): " + properties.GetRawText());
        AppSettings = properties.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? "", StringComparer.Ordinal);
    }

    /// <summary>The one snapshot of this test run.</summary>
    public static DeploymentSnapshot Current => Instance.Value;

    /// <summary>The secret environment variables the deployer set, with their values.</summary>
    public IReadOnlyDictionary<string, string> Secrets { get; }

    /// <summary>Everything the deployer set.</summary>
    public IReadOnlyDictionary<string, string> Environment { get; }

    public BicepRun Run { get; }

    /// <summary>The snapshot file as written.</summary>
    public string Text { get; }

    public IReadOnlyList<JsonElement> Resources { get; }

    /// <summary>The Function App's app settings, name to value (or to an ARM expression where only Azure knows it).</summary>
    public IReadOnlyDictionary<string, string> AppSettings { get; }

    /// <summary>The names of the Key Vault secrets the deployment writes (when their values are given).</summary>
    public IReadOnlyList<string> KeyVaultSecretNames =>
        Resources.Where(r => r.GetProperty("type").GetString() == "Microsoft.KeyVault/vaults/secrets")
            .Select(r => r.GetProperty("name").GetString()!.Split('/')[^1])
            .ToList();

    /// <summary>The Key Vault secret a setting's value refers to, or null when it is no Key Vault reference.</summary>
    public static string? ReferencedSecret(string value)
    {
        if (!value.Contains("@Microsoft.KeyVault(SecretUri=", StringComparison.Ordinal))
        {
            return null;
        }

        var match = SecretName().Match(value);
        Assert.True(match.Success, $"A Key Vault reference without a recognisable secret name: {value}");
        return match.Value;
    }

    /// <summary>Whether a value is still an ARM expression, to be known only at deployment.</summary>
    public static bool IsExpression(string value) => value.StartsWith('[') && !value.StartsWith("[[", StringComparison.Ordinal);

    /// <summary>Copies a folder with everything under it (the template is compiled from a copy, never in place).</summary>
    public static void CopyFolder(string source, string target)
    {
        Directory.CreateDirectory(target);
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var destination = Path.Combine(target, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            File.Copy(file, destination);
        }
    }

    [GeneratedRegex("(FuncGateway--[A-Za-z0-9-]+|OTEL-[A-Za-z0-9-]+)")]
    private static partial Regex SecretName();
}
