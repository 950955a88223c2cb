using System.Text.Json;

namespace FuncGateway.Infra.Tests;

/// <summary>
/// A compiled ARM template, navigated the way a deployment nests it: <c>main.bicep</c> compiles to a template whose
/// modules are <c>Microsoft.Resources/deployments</c> resources carrying their own template. Values are JSON; ARM
/// expressions are strings such as <c>"[parameters('x')]"</c>, so tests assert on literal values where the template
/// fixes them and on the expression text where a value is only known at deployment.
/// </summary>
internal sealed class ArmTemplate(JsonElement root)
{
    public const string DeploymentType = "Microsoft.Resources/deployments";

    public JsonElement Root { get; } = root;

    /// <summary>The resources of this template (not of its modules). Symbolic-name templates hold them in an object.</summary>
    public IEnumerable<JsonElement> Resources
    {
        get
        {
            var resources = Root.GetProperty("resources");
            return resources.ValueKind == JsonValueKind.Object
                ? resources.EnumerateObject().Select(p => p.Value)
                : resources.EnumerateArray();
        }
    }

    public JsonElement Parameters => Root.GetProperty("parameters");

    /// <summary>The outputs; an empty object when the template has none.</summary>
    public JsonElement Outputs => Root.TryGetProperty("outputs", out var outputs) ? outputs : EmptyObject;

    private static JsonElement EmptyObject { get; } = JsonDocument.Parse("{}").RootElement.Clone();

    /// <summary>The resources of one type in this template.</summary>
    public IReadOnlyList<JsonElement> OfType(string type) =>
        Resources.Where(r => string.Equals(r.GetProperty("type").GetString(), type, StringComparison.OrdinalIgnoreCase)).ToList();

    /// <summary>The one resource of <paramref name="type"/> in this template.</summary>
    public JsonElement Single(string type)
    {
        var matches = OfType(type);
        Assert.True(matches.Count == 1, $"Expected exactly one {type} in the template, found {matches.Count}.");
        return matches[0];
    }

    /// <summary>The module deployed as <paramref name="deploymentName"/> (the Bicep module's <c>name</c>).</summary>
    public JsonElement Deployment(string deploymentName)
    {
        var deployment = OfType(DeploymentType).SingleOrDefault(d => d.GetProperty("name").GetString() == deploymentName);
        Assert.True(deployment.ValueKind == JsonValueKind.Object, $"No module deployed as '{deploymentName}'.");
        return deployment;
    }

    /// <summary>The template of the module deployed as <paramref name="deploymentName"/>.</summary>
    public ArmTemplate Module(string deploymentName) =>
        new(Deployment(deploymentName).At("properties", "template"));

    /// <summary>The value this template passes to <paramref name="parameter"/> of a module.</summary>
    public JsonElement ModuleArgument(string deploymentName, string parameter) =>
        Deployment(deploymentName).At("properties", "parameters", parameter, "value");

    /// <summary>Every resource of this template and of its modules, at any depth.</summary>
    public IEnumerable<JsonElement> AllResources()
    {
        foreach (var resource in Resources)
        {
            yield return resource;
            if (resource.GetProperty("type").GetString() == DeploymentType)
            {
                foreach (var nested in new ArmTemplate(resource.GetProperty("properties").GetProperty("template")).AllResources())
                {
                    yield return nested;
                }
            }
        }
    }

    /// <summary>
    /// The literal value of a constant template variable, resolving the one indirection Bicep leaves in compiled
    /// expressions: <c>variables('name').property</c>.
    /// </summary>
    public string? Variable(string name, string property) =>
        Root.StringAt("variables", name, property);
}

/// <summary>Property access on compiled JSON with messages that name the path.</summary>
internal static class JsonPath
{
    public static JsonElement At(this JsonElement element, params string[] path)
    {
        var current = element;
        foreach (var segment in path)
        {
            Assert.True(current.ValueKind == JsonValueKind.Object && current.TryGetProperty(segment, out current),
                $"Missing '{string.Join('.', path)}' (at '{segment}') in {Shorten(element)}");
        }

        return current;
    }

    public static string? StringAt(this JsonElement element, params string[] path) => element.At(path).GetString();

    private static string Shorten(JsonElement element)
    {
        var text = element.GetRawText();
        return text.Length <= 400 ? text : text[..400] + "…";
    }
}
